from evaluation.models.runs import BaselineTag, Run, RunOutput, RunScore

__all__ = ["BaselineTag", "Run", "RunOutput", "RunScore"]
