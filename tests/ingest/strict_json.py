"""JSON parsing that rejects an object holding a key twice (two readers may
take different values of it), for the ingest tests' checks of vigil's output."""
import json


class DuplicateKey(ValueError):
    pass


def unique_keys(pairs):
    """json's object_pairs_hook: an object whose keys all differ."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        raise DuplicateKey(f"key {next(k for k in keys if keys.count(k) > 1)!r} written twice")
    return obj


def loads(text):
    return json.loads(text, object_pairs_hook=unique_keys)
