//! The schema's own promises, read from PostgreSQL's catalog so a table or key
//! added later is covered the day it lands.

use crate::helpers::TestApp;

/// Issue #9: deleting a parent row (a ticket, a user, a tenant's tickets) must
/// find the rows that reference it through an index, not a scan per deleted row.
/// An index serves a foreign key when its leading columns are the key's columns;
/// a partial one only when its predicate is `<column> is not null`, which any
/// lookup for a value implies.
#[tokio::test]
async fn every_foreign_key_has_an_index_on_its_referencing_side() {
    let app = TestApp::new().await;
    let keys: i64 = sqlx::query_scalar(
        "select count(*) from pg_constraint c \
           join pg_namespace n on n.oid = c.connamespace \
          where c.contype = 'f' and n.nspname = 'public'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(
        keys >= 40,
        "the catalog query found only {keys} foreign keys"
    );
    let unindexed: Vec<String> = sqlx::query_scalar(
        "select c.conrelid::regclass::text || ' ' || c.conname from pg_constraint c \
           join pg_namespace n on n.oid = c.connamespace \
          where c.contype = 'f' and n.nspname = 'public' \
            and not exists ( \
                select 1 from pg_index i \
                 where i.indrelid = c.conrelid \
                   and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey \
                   and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey \
                   and (i.indpred is null \
                        or pg_get_expr(i.indpred, i.indrelid) ~ '^\\(\\w+ IS NOT NULL\\)$')) \
          order by 1",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index on their referencing side: {unindexed:#?}"
    );
}
