"""Data access: the only package that imports PynamoDB. Repositories take and return domain objects."""
