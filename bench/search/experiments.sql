-- What could make the questions faster still on PostgreSQL, and what the index's layout costs: each alternative
-- next to the statement Crashcart runs today, on the benchmark's database after a run (bench/search/run.sh
-- --keep, or run.py itself), window = the questions' 7 days.
-- usage: psql URL -v lo="'2026-11-24 00:00:00+00'" -v hi="'2026-12-01 00:00:00+00'" -f bench/search/experiments.sql
-- (run.py does this after the questions, into explain-experiments.txt, unless --no-experiments).
-- Each EXPLAIN runs its statement (ANALYZE); timings on a shared machine move by tens of percent between runs.
\pset pager off
SET work_mem = '64MB';  -- as the runner sets them for a search (runner.WORK_MEM, runner.PARALLEL_TUPLE_COST; E5 shows why)
SET parallel_tuple_cost = 0.01;

\echo '== E1. the top-signatures aggregation as the runner sends it: the narrow search_crash, statistics on lower(product)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.signature IS NOT NULL GROUP BY 1;

\echo '== E2. a facet on a field kept in search_crashdata (cpu_count): the join as the runner sends it (only the keys read travel through it)'
EXPLAIN (ANALYZE, BUFFERS) SELECT (x.data ->> 'cpu_count'), COUNT(*) FROM search_crash c
  LEFT JOIN (SELECT d.uuid, d.date, ('{}'::jsonb || CASE WHEN jsonb_exists(d.data, 'cpu_count')
      THEN jsonb_build_object('cpu_count', d.data -> 'cpu_count') ELSE '{}'::jsonb END) AS data
    FROM search_crashdata d WHERE d.date >= :lo AND d.date < :hi) x ON x.uuid = c.uuid AND x.date = c.date
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' GROUP BY 1;
\echo '== E2b. the same facet joining whole documents (what the hash held before)'
EXPLAIN (ANALYZE, BUFFERS) SELECT (x.data ->> 'cpu_count'), COUNT(*) FROM search_crash c
  LEFT JOIN search_crashdata x ON x.uuid = c.uuid AND x.date = c.date AND x.date >= :lo AND x.date < :hi
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' GROUP BY 1;

\echo '== E3. a covering index (lower(product), date) INCLUDE (signature): top signatures from the index alone'
\timing on
CREATE INDEX exp_product_date_signature ON search_crash (lower(product), date) INCLUDE (signature);
\timing off
VACUUM ANALYZE search_crash;
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND c.signature IS NOT NULL GROUP BY 1;
SELECT pg_size_pretty(SUM(pg_relation_size(inhrelid))) AS covering_index_size FROM pg_inherits
  WHERE inhparent = 'exp_product_date_signature'::regclass;
DROP INDEX exp_product_date_signature;

\echo '== E4. contains search: LIKE over the window (today) against a trigram GIN index on signature (pg_trgm)'
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND c.signature LIKE '%WorkerPrivate%' GROUP BY 1;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
\timing on
CREATE INDEX exp_signature_trgm ON search_crash USING gin (signature gin_trgm_ops);
\timing off
ANALYZE search_crash;
EXPLAIN (ANALYZE, BUFFERS) SELECT c.signature, COUNT(*) FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND c.signature LIKE '%WorkerPrivate%' GROUP BY 1;
DROP INDEX exp_signature_trgm;
ANALYZE search_crash;

\echo '== E5. parallel_tuple_cost: 3 filters + 3 facets in one GROUPING SETS scan at the server default (0.1) and at the runner''s 0.01'
SET parallel_tuple_cost = 0.1;
EXPLAIN (ANALYZE, BUFFERS) SELECT GROUPING(c.signature), c.signature, GROUPING(c.version), c.version,
    GROUPING(c.platform_version), c.platform_version, COUNT(*)
  FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND lower(c.platform) = 'windows nt'
    AND lower(c.release_channel) = 'release'
  GROUP BY GROUPING SETS ((c.signature), (c.version), (c.platform_version), ());
SET parallel_tuple_cost = 0.01;
EXPLAIN (ANALYZE, BUFFERS) SELECT GROUPING(c.signature), c.signature, GROUPING(c.version), c.version,
    GROUPING(c.platform_version), c.platform_version, COUNT(*)
  FROM search_crash c
  WHERE c.date >= :lo AND c.date < :hi AND lower(c.product) = 'firefox' AND lower(c.platform) = 'windows nt'
    AND lower(c.release_channel) = 'release'
  GROUP BY GROUPING SETS ((c.signature), (c.version), (c.platform_version), ());
RESET parallel_tuple_cost;
