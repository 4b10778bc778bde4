//! [`Ordered`]: a JSON object that keeps its keys in the order they were
//! inserted (channels in montage order, classes in label order), where a
//! `BTreeMap` would sort them.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Key-value pairs written as a JSON object, in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T> Ordered<T> {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

struct OrderedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
    type Value = Ordered<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((k, x)) = map.next_entry::<String, T>()? {
            v.push((k, x));
        }
        Ok(Ordered(v))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(OrderedVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_through_json() {
        let o = Ordered(vec![("Fz".to_string(), 1.0), ("Cz".to_string(), 2.0), ("Oz".to_string(), -1.0)]);
        let s = serde_json::to_string(&o).unwrap();
        assert_eq!(s, r#"{"Fz":1.0,"Cz":2.0,"Oz":-1.0}"#);
        let back: Ordered<f64> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, o);
        assert_eq!(back.get("Cz"), Some(&2.0));
    }
}
