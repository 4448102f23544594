extension JobStore {
  /// CTEs that settle the dependents of the jobs a statement just moved. The statement must start
  /// with `WITH RECURSIVE clock AS (SELECT ... AS now)` and define `done(id, state, has_dependents)`
  /// before this fragment. Used by completion, rescue and cancel, so that a job's end and its
  /// dependents' release or cancellation commit together.
  static let dependencyResolutionCTEs = """
    -- Every waiting job downstream of a job that just ended dead or cancelled can never run.
    chain (job_id, cause, cause_state) AS (
      SELECT dep.job_id, dep.depends_on, done.state::text
      FROM job_dependencies dep JOIN done ON dep.depends_on = done.id
      WHERE done.has_dependents AND done.state IN ('dead', 'cancelled')
      UNION
      SELECT dep.job_id, dep.depends_on, 'cancelled'
      FROM job_dependencies dep JOIN chain ON dep.depends_on = chain.job_id
    ),
    doomed AS (
      UPDATE jobs j SET
        state = 'cancelled',
        finished_at = (SELECT now FROM clock),
        last_error = 'cancelled: dependency ' || c.cause || ' ended ' || c.cause_state
      FROM (SELECT DISTINCT ON (job_id) job_id, cause, cause_state FROM chain
            ORDER BY job_id, cause) c
      WHERE j.id = c.job_id AND j.state = 'waiting'
      RETURNING j.id),
    -- Dependents of jobs that just succeeded count down; at zero they become available. A
    -- dependent also doomed above is left to that update (two updates of one row in one
    -- statement would race).
    released AS (
      UPDATE jobs j SET
        pending_dependencies = j.pending_dependencies - d.n,
        state = (CASE WHEN j.pending_dependencies = d.n THEN 'available' ELSE 'waiting' END)::job_state
      FROM (SELECT dep.job_id, count(*)::integer AS n
            FROM job_dependencies dep JOIN done ON dep.depends_on = done.id
            WHERE done.has_dependents AND done.state = 'succeeded'
            GROUP BY dep.job_id) d
      WHERE j.id = d.job_id AND j.state = 'waiting'
        AND d.job_id NOT IN (SELECT job_id FROM chain)
      RETURNING j.id, j.queue, j.state),
    woken AS (
      SELECT pg_notify('trolley_jobs', q.queue)
      FROM (SELECT DISTINCT queue FROM released WHERE state = 'available') q)
    """
}
