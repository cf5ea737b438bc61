# Loaded by python_script.yaml through `script: {source: {type: file, path: scripts/double.py}}`.
result = {"doubled": n * 2, "from": "file"}
