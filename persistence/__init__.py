"""Storage: tables, repositories, unit of work, migrations. All SQL of the project lives here."""
