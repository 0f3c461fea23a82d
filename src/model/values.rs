//! Constrained values of request bodies: strings with a length rule, numbers with a range,
//! the task name of a create, and the three states of an updated field.
//!
//! Each rule lives in a type, so a body that deserializes into the types is valid: a value
//! that breaks its rule fails deserialization, and `extract::from_value` turns the failure
//! into a 400 `SMS.8001` naming its JSON path. Where the pages differ (priority 0–65535 on
//! create, 0–2 on update), the two fields simply have two types.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Implements sqlx's text or number mapping for a newtype over `$inner`, by delegation: a
/// stored value was checked when it was written, so it is read back as it is.
macro_rules! sql_newtype {
    ($name:ident < $($param:ident : $kind:ty),* >, $inner:ty) => {
        impl<$(const $param: $kind),*> sqlx::Type<Postgres> for $name<$($param),*> {
            fn type_info() -> PgTypeInfo {
                <$inner as sqlx::Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <$inner as sqlx::Type<Postgres>>::compatible(ty)
            }
        }
        impl<$(const $param: $kind),*> PgHasArrayType for $name<$($param),*> {
            fn array_type_info() -> PgTypeInfo {
                <$inner as PgHasArrayType>::array_type_info()
            }
        }
        impl<$(const $param: $kind),*> Encode<'_, Postgres> for $name<$($param),*> {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <$inner as Encode<Postgres>>::encode_by_ref(&self.0, buf)
            }
        }
        impl<'r, $(const $param: $kind),*> Decode<'r, Postgres> for $name<$($param),*> {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <$inner as Decode<Postgres>>::decode(value).map($name)
            }
        }
    };
}

/// A string of `MIN..=MAX` characters (not bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize>(String);

pub type Text255 = Text<0, 255>;

impl<const MIN: usize, const MAX: usize> Text<MIN, MAX> {
    pub fn parse(value: String) -> Result<Self, String> {
        let n = value.chars().count();
        if n < MIN || n > MAX {
            return Err(format!("must be {MIN} to {MAX} characters long, found {n}"));
        }
        Ok(Text(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize> Deref for Text<MIN, MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de, const MIN: usize, const MAX: usize> Deserialize<'de> for Text<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Text::parse(String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

sql_newtype!(Text<MIN: usize, MAX: usize>, String);

/// The OpenAPI schema says the same rule: a string of `MIN..=MAX` characters. PostgreSQL text
/// cannot hold U+0000 (`parse::from_value` refuses it), hence the pattern.
impl<const MIN: usize, const MAX: usize> PartialSchema for Text<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(MIN))
            .max_length(Some(MAX))
            .pattern(Some(NO_NUL))
            .into()
    }
}

impl<const MIN: usize, const MAX: usize> ToSchema for Text<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Text_{MIN}_{MAX}"))
    }
}

/// A string without U+0000, as an OpenAPI pattern.
pub const NO_NUL: &str = "^[^\\u0000]*$";

/// Defines a number newtype whose value lies in `MIN..=MAX`.
macro_rules! bounded_number {
    ($(#[$meta:meta])* $name:ident, $inner:ty, $bound:ty, $json_type:expr, $format:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name<const MIN: $bound, const MAX: $bound>($inner);

        impl<const MIN: $bound, const MAX: $bound> $name<MIN, MAX> {
            /// The smallest value of the range.
            pub const LOWEST: Self = $name(MIN as $inner);

            pub fn parse(value: $inner) -> Result<Self, String> {
                if value < MIN as $inner || value > MAX as $inner {
                    return Err(format!("must be between {MIN} and {MAX}, found {value}"));
                }
                Ok($name(value))
            }

            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl<'de, const MIN: $bound, const MAX: $bound> Deserialize<'de> for $name<MIN, MAX> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::parse(<$inner>::deserialize(deserializer)?).map_err(D::Error::custom)
            }
        }

        sql_newtype!($name<MIN: $bound, MAX: $bound>, $inner);

        /// The OpenAPI schema says the same range.
        impl<const MIN: $bound, const MAX: $bound> PartialSchema for $name<MIN, MAX> {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type($json_type)
                    .format(Some(SchemaFormat::KnownFormat($format)))
                    .minimum(Some(MIN as $inner))
                    .maximum(Some(MAX as $inner))
                    .into()
            }
        }

        impl<const MIN: $bound, const MAX: $bound> ToSchema for $name<MIN, MAX> {
            fn name() -> Cow<'static, str> {
                Cow::Owned(format!(concat!(stringify!($name), "_{}_{}"), MIN, MAX))
            }
        }
    };
}

bounded_number!(
    /// A 32-bit integer in `MIN..=MAX` (an `Integer` of the pages).
    Int32,
    i32,
    i32,
    Type::Integer,
    KnownFormat::Int32
);
bounded_number!(
    /// A 64-bit integer in `MIN..=MAX` (a `Long` of the pages).
    Int64,
    i64,
    i64,
    Type::Integer,
    KnownFormat::Int64
);
bounded_number!(
    /// A float in `MIN..=MAX` (every float range of the pages has integer bounds).
    Float,
    f64,
    i64,
    Type::Number,
    KnownFormat::Double
);

/// A `Long` with minimum 0: sizes, counts, dates in milliseconds, nested ids.
pub type NonNegative = Int64<0, { i64::MAX }>;
/// An `Integer` with minimum 0.
pub type NonNegative32 = Int32<0, { i32::MAX }>;
/// A speed in Mbit/s, 0–10000 (`migrate_speed` of task and subtask, `io_read_wait`).
pub type Speed = Float<0, 10000>;

/// The name of a new task: 1–64 of `[A-Za-z0-9_-]` (page 003). An update's `name` is only a
/// 0–255 character string (page 004), so it has the type [`Text255`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskName(String);

impl TaskName {
    pub fn parse(name: String) -> Result<TaskName, String> {
        let valid =
            (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err("must be 1 to 64 characters of letters, digits, _ and -".into());
        }
        Ok(TaskName(name))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

crate::openapi::custom_schema!(
    TaskName,
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some("^[A-Za-z0-9_-]*$"))
);

impl<'de> Deserialize<'de> for TaskName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TaskName::parse(String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A field of a partial update that may be cleared: absent (unchanged), `null` (cleared), or
/// a new value. Declare it `#[serde(default)]` so that an absent key is `Absent`.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// The new value of a present field (`None` for `null`); `None` when absent.
    pub fn change(&self) -> Option<Option<&T>> {
        match self {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(v) => Some(Some(v)),
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(v) => Patch::Value(f(v)),
        }
    }

    /// `self`, or `other` when `self` is absent.
    pub fn or(self, other: Patch<T>) -> Patch<T> {
        if self.is_absent() {
            other
        } else {
            self
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Patch::Null, Patch::Value))
    }
}

/// In the OpenAPI document a patched field is its value or `null` (absent is not a value: the
/// field is simply not required).
impl<T: ToSchema> ToSchema for Patch<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Patch")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}

/// How utoipa's derive asks for `Patch<T>` (its generic types composed); `PartialSchema`
/// follows from it.
impl<T: ToSchema> utoipa::__dev::ComposeSchema for Patch<T> {
    fn compose(generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        match generics.into_iter().next() {
            Some(value) => nullable(value),
            None => nullable(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))),
        }
    }
}

/// `value` or `null`.
pub fn nullable(value: RefOr<Schema>) -> RefOr<Schema> {
    OneOfBuilder::new().item(ObjectBuilder::new().schema_type(Type::Null)).item(value).into()
}

/// For a field of a partial update that may not be cleared: absent is `None`, a value is
/// `Some`, and `null` is refused. Use as
/// `#[serde(default, deserialize_with = "not_null")] #[schema(nullable = false)] field: Option<T>`
/// (the second attribute tells the OpenAPI document the same).
pub fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom("cannot be null")),
    }
}

/// A value that is not one of a closed list (see `model::enums`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub allowed: &'static [&'static str],
    pub found: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be one of {}, found {:?}", self.allowed.join(", "), self.found)
    }
}

impl std::error::Error for UnknownValue {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(parse::<Text<1, 3>>(json!("ééé")).is_ok());
        assert_eq!(parse::<Text<1, 3>>(json!("éééé")).unwrap_err(), "must be 1 to 3 characters long, found 4");
        assert!(parse::<Text<1, 3>>(json!("")).is_err());
        assert!(parse::<Text<1, 3>>(json!(5)).unwrap_err().starts_with("invalid type"));
    }

    #[test]
    fn numbers_keep_to_their_range() {
        assert_eq!(parse::<Int32<0, 2>>(json!(2)).unwrap().get(), 2);
        assert_eq!(parse::<Int32<0, 2>>(json!(3)).unwrap_err(), "must be between 0 and 2, found 3");
        assert_eq!(parse::<NonNegative>(json!(-1)).unwrap_err(), "must be between 0 and 9223372036854775807, found -1");
        assert_eq!(parse::<Speed>(json!(10000.5)).unwrap_err(), "must be between 0 and 10000, found 10000.5");
        assert!(parse::<Int32<0, 2>>(json!(1.5)).is_err());
        assert!(parse::<Int32<0, { i32::MAX }>>(json!(i64::from(i32::MAX) + 1)).is_err());
    }

    #[test]
    fn task_names_follow_the_create_rule() {
        for good in ["MigrationTask", "a-b_C9", &"x".repeat(64)] {
            assert!(TaskName::parse(good.to_string()).is_ok(), "{good}");
        }
        for bad in ["", &"x".repeat(65), "with space", "dot.ted", "ünïcode"] {
            assert!(TaskName::parse(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Update {
        #[serde(default)]
        nullable: Patch<Int32<0, 9>>,
        #[serde(default, deserialize_with = "not_null")]
        required: Option<Int32<0, 9>>,
    }

    #[test]
    fn patches_tell_absent_null_and_value_apart() {
        let absent: Update = parse(json!({})).unwrap();
        assert_eq!((absent.nullable, absent.required), (Patch::Absent, None));
        let null: Update = parse(json!({ "nullable": null })).unwrap();
        assert_eq!(null.nullable, Patch::Null);
        let value: Update = parse(json!({ "nullable": 3, "required": 4 })).unwrap();
        assert_eq!(value.nullable, Patch::Value(Int32::parse(3).unwrap()));
        assert_eq!(value.required, Some(Int32::parse(4).unwrap()));
        assert!(parse::<Update>(json!({ "required": null })).unwrap_err().starts_with("cannot be null"));
        assert!(parse::<Update>(json!({ "nullable": 10 })).is_err());
    }
}
