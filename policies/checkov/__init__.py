"""Custom checkov policies, loaded by checkov itself (``--external-checks-dir policies/checkov``).

One check per file, named after its id (``ckv_records_ecs_1.py`` holds ``CKV_RECORDS_ECS_1``), so the gate
can tell which checks must have produced results. The Python checks import checkov, which lives in its own
virtualenv: nothing in the application or test environment imports these modules.
"""
