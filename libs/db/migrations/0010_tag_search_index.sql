-- Issue search by tag (`release:1.2.3`, `environment:staging`, any `key:value`) finds the issues
-- carrying the value through this index instead of probing every issue of the project in the
-- list's order: for a value few issues have, that probe walked the whole project (bench/web: a
-- release searched across 20,000 issues took 30-40 ms of CPU, 3.5 ms with the index).
CREATE INDEX issue_tag_values_lookup ON issue_tag_values (project_id, key, value, issue_id);

-- Which of the two plans is cheaper depends on how many issues carry the value, and the planner
-- needs to know that key and value go together: "Chrome" is common as browser.name and absent from
-- every other key. Without this it guessed 120 rows for 2,000 and looked up every Chrome issue
-- of the organization instead of walking the list until the page was full (20 ms instead of 6).
CREATE STATISTICS issue_tag_values_key_value (mcv) ON key, value FROM issue_tag_values;
