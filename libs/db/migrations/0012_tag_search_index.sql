-- Issue search by tag (`release:1.2.3`, `user:id:42`, any `key:value`) finds the issues carrying
-- the value through this index instead of probing every issue of the project in the list's order:
-- for a value few issues have, the probes walked the whole project (bench/web, 20,000 issues: a
-- release searched across the organization took 30-40 ms of CPU, 3 ms with the index). Without
-- `user` in it (its values are the most numerous), a search for one user still probed and read
-- pages of the primary key all over the disk: p95 650 ms.
-- The worker pays an index insert for each new tag value of an issue (bench/worker, noisy runs:
-- PostgreSQL CPU per event 139 µs without the index, 153-162 µs with it).
CREATE INDEX issue_tag_values_lookup ON issue_tag_values (project_id, key, value, issue_id);

-- Which of the two plans is cheaper depends on how many issues carry the value, and the planner
-- needs to know that key and value go together: "Chrome" is common as browser.name and absent from
-- every other key. Without this it guessed 120 rows for 2,000 and looked up every Chrome issue
-- of the organization instead of walking the list until the page was full (20 ms instead of 6).
CREATE STATISTICS issue_tag_values_key_value (mcv) ON key, value FROM issue_tag_values;
