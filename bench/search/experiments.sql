-- What would make the slow questions fast on PostgreSQL: each alternative next to the statement Crashcart runs
-- today, on the benchmark's database after a run (bench/search/run.sh --keep), window = the questions' 7 days.
-- usage: psql URL -v lo="'2026-11-24 00:00:00+00'" -v hi="'2026-12-01 00:00:00+00'" -f bench/search/experiments.sql
-- (run.py does this after the questions, into explain-experiments.txt, unless --no-experiments).
-- Each EXPLAIN runs its statement (ANALYZE); timings on a shared machine move by tens of percent between runs.
\pset pager off

\echo '== E1. the top-signatures aggregation, the reference for E4 and E5 (lower(product) has no statistics: 0.5% of rows expected)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.signature IS NOT NULL GROUP BY 1;

\echo '== E2a. 3 filters + 3 facets + total in ONE scan (GROUPING SETS) instead of one statement per facet'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, c.version, c.platform_version,
    GROUPING(c.signature, c.version, c.platform_version) AS g, COUNT(*)
  FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND lower(c.platform) = 'windows nt'
    AND lower(c.release_channel) = 'release'
  GROUP BY GROUPING SETS ((c.signature), (c.version), (c.platform_version), ());

\echo '== E3. cardinality: COUNT(DISTINCT) (always sorts) against a hashed DISTINCT'
EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(DISTINCT c.install_time) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox';
EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM (SELECT DISTINCT c.install_time FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.install_time IS NOT NULL) d;

\echo '== E4. a narrow table: the typed columns without the data JSON (what a side table for data would leave)'
CREATE UNLOGGED TABLE exp_narrow AS SELECT uuid, date, product, version, release_channel, platform,
  platform_version, cpu_arch, process_type, report_type, signature, reason, address, build_id, major_version,
  uptime, install_age, install_time FROM search_crash WHERE date >= :lo AND date < :hi;
VACUUM ANALYZE exp_narrow;
SELECT pg_relation_size('exp_narrow') / GREATEST((SELECT COUNT(*) FROM exp_narrow), 1) AS narrow_bytes_a_row,
  (SELECT SUM(pg_relation_size(inhrelid)) / GREATEST(SUM(c.reltuples), 1) FROM pg_inherits
    JOIN pg_class c ON c.oid = inhrelid WHERE inhparent = 'search_crash'::regclass)::int AS search_crash_bytes_a_row;
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM exp_narrow c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.signature IS NOT NULL GROUP BY 1;
DROP TABLE exp_narrow;

\echo '== E5. statistics on lower(product) (an expression index; CREATE STATISTICS would do too): true estimates'
CREATE INDEX exp_lower_product_date ON search_crash (lower(product), date);
ANALYZE search_crash;
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.signature IS NOT NULL GROUP BY 1;
DROP INDEX exp_lower_product_date;
ANALYZE search_crash;
