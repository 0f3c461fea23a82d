//! Reading a tree node as sent: its attributes (the fields its table stores, one struct per
//! node, shared with its row and its views) beside its *members*, the keys that are not
//! attributes (its id and its children).
//!
//! serde's `flatten` would do the split, but an error inside a flattened struct loses its
//! JSON path (`disks[1]` instead of `disks[1].size`). Here the node's object is read in one
//! pass: member keys go to the members, every other entry is handed to the attributes'
//! own `Deserialize` as it is read, so each error keeps its full path.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// The keys of a node that are not attributes.
pub trait Members: Default {
    /// Reads the value of `key` when it is a member; `false` when it is an attribute.
    fn read<'de, M: MapAccess<'de>>(&mut self, key: &str, map: &mut M) -> Result<bool, M::Error>;
}

/// A node as sent: attributes `A` and members `M`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<A, M> {
    pub attrs: A,
    pub members: M,
}

impl<'de, A: Deserialize<'de>, M: Members> Deserialize<'de> for Node<A, M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(NodeVisitor(PhantomData))
    }
}

/// In the OpenAPI document a node is one object (utoipa's `PartialSchema` follows): its attributes' properties and its members'.
/// It is named after its attributes (`Disk` → `DiskInput`).
impl<A: ToSchema, M: Members + ToSchema> utoipa::__dev::ComposeSchema for Node<A, M> {
    fn compose(_: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        let mut node = object_of::<A>();
        let members = object_of::<M>();
        node.properties.extend(members.properties);
        node.required.extend(members.required);
        node.into()
    }
}

impl<A: ToSchema, M: Members + ToSchema> ToSchema for Node<A, M> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Input", A::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        A::schemas(schemas);
        M::schemas(schemas);
    }
}

/// The object schema of a struct (whose derive makes one).
fn object_of<T: ToSchema>() -> Object {
    match T::schema() {
        RefOr::T(Schema::Object(object)) => object,
        _ => unreachable!("{} is a struct, so its schema is an object", T::name()),
    }
}

struct NodeVisitor<A, M>(PhantomData<(A, M)>);

impl<'de, A: Deserialize<'de>, M: Members> Visitor<'de> for NodeVisitor<A, M> {
    type Value = Node<A, M>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<V: MapAccess<'de>>(self, map: V) -> Result<Node<A, M>, V::Error> {
        let mut members = M::default();
        let attrs = A::deserialize(Attributes { map, members: &mut members })?;
        Ok(Node { attrs, members })
    }
}

/// The node's object seen as a map of its attributes only.
struct Attributes<'m, A, M> {
    map: A,
    members: &'m mut M,
}

impl<'de, A: MapAccess<'de>, M: Members> Deserializer<'de> for Attributes<'_, A, M> {
    type Error = A::Error;

    fn deserialize_any<W: Visitor<'de>>(self, visitor: W) -> Result<W::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>, M: Members> MapAccess<'de> for Attributes<'_, A, M> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if !self.members.read(&key, &mut self.map)? {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Defines a node's members struct: its fields are read from the keys of their names.
macro_rules! members {
    ($(#[$meta:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, utoipa::ToSchema)]
        pub struct $name {
            $(pub $field: $ty),*
        }

        impl $crate::model::tree::node::Members for $name {
            fn read<'de, M: serde::de::MapAccess<'de>>(&mut self, key: &str, map: &mut M) -> Result<bool, M::Error> {
                match key {
                    $(stringify!($field) => self.$field = map.next_value()?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}
pub(crate) use members;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::values::Int32;

    #[derive(Debug, Clone, Deserialize, PartialEq, utoipa::ToSchema)]
    pub struct Attrs {
        pub size: Option<Int32<0, 9>>,
    }

    members!(Branch { id: Option<i64>, children: Option<Vec<Node<Attrs, Branch>>> });

    fn parse(value: serde_json::Value) -> Result<Node<Attrs, Branch>, String> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })
    }

    #[test]
    fn members_and_attributes_are_split() {
        let node = parse(json!({ "id": 7, "size": 3, "children": [{ "size": 1 }], "other": true })).unwrap();
        assert_eq!(node.members.id, Some(7));
        assert_eq!(node.attrs.size.map(Int32::get), Some(3));
        assert_eq!(node.members.children.unwrap()[0].attrs.size.map(Int32::get), Some(1));
    }

    #[test]
    fn errors_keep_their_full_path() {
        assert!(parse(json!({ "size": 10 })).unwrap_err().starts_with("size: must be between"));
        let nested = parse(json!({ "children": [{}, { "size": "x" }] })).unwrap_err();
        assert!(nested.starts_with("children[1].size: invalid type"), "{nested}");
        assert!(parse(json!({ "id": "x" })).unwrap_err().starts_with("id: invalid type"));
    }
}
