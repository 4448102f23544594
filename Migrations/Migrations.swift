// Numbered SQL migrations live in Migrations/SQL and ship as resources.
