import { lockPhrase } from '../locks'
import { nodeAs, showTable, tableOf } from '../nodes'
import { acknowledge } from '../recipes'
import { defineRule, isExisting } from '../rule'

/** REFRESH MATERIALIZED VIEW without CONCURRENTLY: every read of the view waits for the whole refresh. */
export const requireConcurrentRefresh = defineRule({
  name: 'require-concurrent-refresh',
  level: 'error',
  summary: 'REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until the refresh ends.',
  examples: {
    fail: ['REFRESH MATERIALIZED VIEW "UserStats";', 'REFRESH MATERIALIZED VIEW "UserStats" WITH DATA;'],
    pass: [
      'REFRESH MATERIALIZED VIEW CONCURRENTLY "UserStats";',
      'CREATE MATERIALIZED VIEW "Totals" AS SELECT 1 AS "n" WITH NO DATA;\nREFRESH MATERIALIZED VIEW "Totals";',
    ],
  },
  check(context) {
    const refresh = nodeAs(context.node, 'RefreshMatViewStmt')
    const view = tableOf(refresh?.relation)
    if (!refresh || refresh.concurrent || !view || !isExisting(context, view)) return []
    const [lock] = context.locks
    return [
      {
        message: `REFRESH MATERIALIZED VIEW ${lock ? lockPhrase(lock) : ''}: the running release's reads of ${showTable(view)} wait for the whole query behind it.`,
        help:
          `REFRESH MATERIALIZED VIEW CONCURRENTLY ${showTable(view)}; needs a unique index on the view (CREATE UNIQUE INDEX ` +
          `CONCURRENTLY first) and keeps it readable. Better still, refresh it from a job after the deploy, not in a migration.\n` +
          acknowledge('require-concurrent-refresh', 'the view is not read yet (WITH NO DATA) or is tiny'),
      },
    ]
  },
})
