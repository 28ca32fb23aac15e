//! The tenant's option lists (statuses, priorities, types, categories), loaded
//! together for forms, validation and labels.

use super::model::{
    Category, CategoryId, Priority, PriorityId, Status, StatusCategory, StatusId, TicketType,
    TypeId,
};
use crate::db::TenantId;
use sqlx::{PgConnection, types::Json};

#[derive(Clone, Debug, Default)]
pub struct TicketOptions {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub types: Vec<TicketType>,
    pub categories: Vec<Category>,
}

/// The four lists as JSON columns named `statuses`, `priorities`, `types` and
/// `categories`, for statements that read them beside other things (the
/// tenant is `$1`); [`OptionsRow`] decodes them.
pub(crate) const OPTIONS_COLUMNS: &str = "\
    (select coalesce(json_agg(json_build_object('id', id, 'name', name, \
               'category', category, 'color', color, 'is_default', is_default, \
               'retired', retired) order by position, name), '[]') \
       from ticket_statuses where tenant_id = $1) as statuses, \
    (select coalesce(json_agg(json_build_object('id', id, 'name', name, 'rank', rank, \
               'color', color, 'is_default', is_default, 'retired', retired) \
               order by rank), '[]') \
       from ticket_priorities where tenant_id = $1) as priorities, \
    (select coalesce(json_agg(json_build_object('id', id, 'name', name, \
               'is_default', is_default, 'retired', retired) \
               order by position, name), '[]') \
       from ticket_types where tenant_id = $1) as types, \
    (select coalesce(json_agg(json_build_object('id', id, 'parent_id', parent_id, \
               'name', name, 'depth', depth, 'retired', retired) \
               order by depth, position, name), '[]') \
       from categories where tenant_id = $1) as categories";

/// [`OPTIONS_COLUMNS`] as read.
#[derive(sqlx::FromRow)]
pub(crate) struct OptionsRow {
    statuses: Json<Vec<Status>>,
    priorities: Json<Vec<Priority>>,
    types: Json<Vec<TicketType>>,
    categories: Json<Vec<Category>>,
}

impl From<OptionsRow> for TicketOptions {
    fn from(row: OptionsRow) -> Self {
        Self {
            statuses: row.statuses.0,
            priorities: row.priorities.0,
            types: row.types.0,
            categories: row.categories.0,
        }
    }
}

impl TicketOptions {
    /// All four lists in one round trip (every page that shows a ticket or a
    /// list needs them; the busiest pages read them with the rest of what
    /// they show, through [`OPTIONS_COLUMNS`]).
    pub async fn load(conn: &mut PgConnection, tenant: TenantId) -> Result<Self, sqlx::Error> {
        let row: OptionsRow = sqlx::query_as(&format!("select {OPTIONS_COLUMNS}"))
            .bind(tenant)
            .fetch_one(conn)
            .await?;
        Ok(row.into())
    }

    pub fn status(&self, id: StatusId) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn priority(&self, id: PriorityId) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }

    pub fn ticket_type(&self, id: TypeId) -> Option<&TicketType> {
        self.types.iter().find(|t| t.id == id)
    }

    pub fn category(&self, id: CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The status new tickets (and reopened ones) get.
    pub fn default_status(&self, category: StatusCategory) -> Option<&Status> {
        self.statuses
            .iter()
            .filter(|s| s.category == category && !s.retired)
            .max_by_key(|s| s.is_default)
    }

    pub fn default_priority(&self) -> Option<&Priority> {
        self.priorities
            .iter()
            .filter(|p| !p.retired)
            .max_by_key(|p| p.is_default)
    }

    pub fn default_type(&self) -> Option<&TicketType> {
        self.types
            .iter()
            .filter(|t| !t.retired)
            .max_by_key(|t| t.is_default)
    }

    /// The path from the root to `id`: `[Technical, Access, Password reset]`.
    pub fn category_path(&self, id: CategoryId) -> Vec<&Category> {
        let mut path = Vec::new();
        let mut next = self.category(id);
        while let Some(category) = next {
            path.push(category);
            next = category.parent_id.and_then(|parent| self.category(parent));
            if path.len() > 3 {
                break;
            }
        }
        path.reverse();
        path
    }

    /// The ids from the root to `id`, or nothing for no category.
    pub fn category_path_ids(&self, id: Option<CategoryId>) -> Vec<CategoryId> {
        id.map(|id| self.category_path(id).iter().map(|c| c.id).collect())
            .unwrap_or_default()
    }

    /// The chosen categories from the top level down, whatever order they came
    /// in (htmx sends the select that changed first); unknown ids are dropped.
    pub fn by_depth(&self, ids: &[CategoryId]) -> Vec<CategoryId> {
        let mut known: Vec<&Category> = ids.iter().filter_map(|id| self.category(*id)).collect();
        known.sort_by_key(|c| c.depth);
        known.iter().map(|c| c.id).collect()
    }

    /// "Technical › Access › Password reset".
    pub fn category_label(&self, id: CategoryId) -> String {
        self.category_path(id)
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" › ")
    }

    /// `id` and every category below it (a filter on a category includes its children).
    pub fn category_and_descendants(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut found = vec![id];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(
                self.categories
                    .iter()
                    .filter(|c| c.parent_id == Some(parent))
                    .map(|c| c.id),
            );
            i += 1;
        }
        found
    }

    /// Categories offered under `parent` (roots when `None`).
    pub fn children(&self, parent: Option<CategoryId>) -> Vec<&Category> {
        self.categories
            .iter()
            .filter(|c| c.parent_id == parent && !c.retired)
            .collect()
    }
}
