from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from evaluation.scorers.base import Item, Result, Scorer, ScorerConfigError
from evaluation.scorers.json_valid import parsed


class JsonSchemaScorer(Scorer):
    """The output (JSON, or a string of JSON) validates against `schema` (JSON Schema 2020-12)."""

    kind = "json_schema"
    options = {"schema": dict}
    required = ("schema",)

    def setup(self, schema):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ScorerConfigError(f"'schema' is not a valid JSON Schema: {exc.message}.") from exc
        self.validator = Draft202012Validator(schema)

    def score_batch(self, items: list[Item]) -> list[Result]:
        results = []
        for item in items:
            value, error = parsed(item.output)
            if not error:
                problem = next(iter(self.validator.iter_errors(value)), None)
                if problem is not None:
                    where = "/".join(str(p) for p in problem.absolute_path) or "(root)"
                    error = f"Does not match the schema at {where}: {problem.message}"
            results.append(Result(0.0 if error else 1.0, not error, error))
        return results
