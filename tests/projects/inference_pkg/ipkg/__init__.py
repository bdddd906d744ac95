"""A package that runs some of its models only for inference (issue 10): pipelines hold them and run them
under no_grad. Checked through real flake8 and against torch gradients in tests/test_inference_only.py."""
