# placeholder replaced by the real handler on merge
def handler(event: object, context: object) -> None:
    raise NotImplementedError
