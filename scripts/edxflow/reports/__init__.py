"""Reports: simeon's secondary tables (person_course, video_axis, ...) built in the warehouse from
SQL templates (sql/reports/{table}.sql): the extra arguments (extra_args), rendering (templates),
the graph of what each table reads (graph), BigQuery-to-DuckDB SQL (transpile) and the build of one
course with its receipt (build)."""
