//! Attribute structs that know their columns. [`attributes!`] declares a struct whose
//! fields are stored under their own names (or a name given with `=> "column"`) and derives
//! [`Columns`], which hands each field's values, as one typed array per column, to a
//! [`ColumnSink`] (the store's set-based insert). The field list is written once, in the
//! struct: a renamed or added field cannot be forgotten by the insert.

use sqlx::postgres::PgHasArrayType;
use sqlx::{Encode, Postgres, Type};

/// Receives the columns of a set of rows.
pub trait ColumnSink<'a> {
    fn column<T>(&mut self, name: &'static str, values: Vec<T>)
    where
        T: Encode<'a, Postgres> + Type<Postgres> + PgHasArrayType + 'a;
}

/// A struct whose fields are columns.
pub trait Columns {
    /// Adds one column per field to `sink`: the field's value in each of `rows`, in order.
    fn columns<'a>(rows: &[&'a Self], sink: &mut impl ColumnSink<'a>);
}

/// Declares an attribute struct (with `Debug`, `Clone`, `PartialEq`, serde, `sqlx::FromRow`
/// and its OpenAPI schema) and its [`Columns`].
macro_rules! attributes {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident : $ty:ty $(=> $column:literal)?),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, sqlx::FromRow, utoipa::ToSchema)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                $(#[sqlx(rename = $column)])?
                pub $field: $ty,
            )*
        }

        impl $crate::model::columns::Columns for $name {
            fn columns<'a>(rows: &[&'a Self], sink: &mut impl $crate::model::columns::ColumnSink<'a>) {
                $(
                    sink.column(
                        $crate::model::columns::attributes!(@column $field $(=> $column)?),
                        rows.iter().map(|row| &row.$field).collect::<Vec<_>>(),
                    );
                )*
            }
        }
    };
    (@column $field:ident) => {
        stringify!($field)
    };
    (@column $field:ident => $column:literal) => {
        $column
    };
}
pub(crate) use attributes;
