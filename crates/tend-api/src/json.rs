//! Serde helpers for the documents tend writes.

use serde::Deserialize;

/// A `T` that was written as a JSON object: serde's derived structs also accept an array of
/// their fields in order, which is not a shape tend writes.
///
/// Read a struct through it with `#[serde(from = "Object<Fields>")]` and an
/// `impl From<Object<Fields>>`:
///
/// ```
/// use serde::Deserialize;
/// use tend_api::json::Object;
///
/// #[derive(Deserialize)]
/// #[serde(from = "Object<Fields>")]
/// struct Point { x: u32 }
/// #[derive(Deserialize)]
/// struct Fields { x: u32 }
/// impl From<Object<Fields>> for Point {
///     fn from(Object(f): Object<Fields>) -> Point { Point { x: f.x } }
/// }
///
/// assert_eq!(serde_json::from_str::<Point>(r#"{"x": 1}"#).unwrap().x, 1);
/// assert!(serde_json::from_str::<Point>("[1]").is_err());
/// ```
pub struct Object<T>(pub T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        serde_json::from_value(serde_json::Value::Object(map))
            .map(Object)
            .map_err(serde::de::Error::custom)
    }
}
