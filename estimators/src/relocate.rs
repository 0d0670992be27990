//! Fitted models move between devices and persist: one mechanism for every model.
//!
//! A fitted model keeps its attributes in the [`Storage`] of the data it was fitted on
//! ([`Host`] ndarray arrays or [`OnDevice`] tensors). [`Relocate`] gives every fitted model
//! `to_device(&Device)` (the same model with its attributes as tensors on that device) and
//! `to_host()` (as ndarray arrays), and [`Persist`] gives it `save(path)` / `to_json()` and, for
//! host models, `load(path)` / `from_json(text)`: attributes go to the host for writing, loading
//! gives a [`Host`] model that `to_device` puts anywhere.
//!
//! Each model implements both through one line of [`relocate!`] listing its fields with their
//! kind (`vec`, `mat`, their `opt_` forms, `mats` for a list of matrix arrays, `model` for a
//! nested fitted model, `device` for a remembered device, `size` for a count, `list` for a host
//! `Vec`, `name` for an estimator's name; a field without a kind is copied as it is) and, for arrays and counts, the names of their dimensions:
//! loading checks that dimensions of the same name agree (`coef: mat[k, d]`,
//! `intercept: vec[k]`, `n_features: size[d]`) and that float attributes are finite, so a
//! truncated, wrong-shaped or wrong-typed file is an [`EstimatorError::Persist`], never a panic.
//!
//! ```
//! use kiln_estimators::prelude::*;
//! # fn demo() -> Result<(), EstimatorError> {
//! let x = kiln_estimators::datasets::load_iris().data;
//! let on_sim = StandardScaler::params().fit(&Tensor::from_array(&x, Device::CudaSim)?)?;
//! let on_cpu = on_sim.to_device(&Device::Cpu)?; // tensors on the Cpu
//! let host = on_cpu.to_host()?; // ndarray attributes
//! let text = on_sim.to_json()?; // attributes go to the host for writing
//! let loaded = StandardScaler::<f64, Host>::from_json(&text)?;
//! assert_eq!(loaded.mean(), host.mean());
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use crate::data::{Host, OnDevice, Storage};
use crate::error::{EstimatorError, Result};
use crate::traits::Place;
use kiln_runtime::{Device, Element};
use ndarray::{ArrayBase, Data, Dimension};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// The version of the saved-model format [`Persist::save`] writes and [`Persist::load`] reads.
pub const FORMAT_VERSION: u32 = 1;

/// A fitted model whose attributes can move to another storage (every fitted model in kiln).
pub trait Relocate: Sized {
    /// The same model with its attributes in storage `T`.
    type At<T: Place>;

    /// The model with its attributes moved to storage `T` (tensors on `device` for
    /// [`OnDevice`]; `device` is the default device for [`Host`]).
    ///
    /// # Errors
    /// Transfer errors (a device that is not there).
    fn relocate<T: Place>(&self, device: Device) -> Result<Self::At<T>>;

    /// The model with its attributes as tensors on `device`; it then predicts and transforms
    /// tensors on that device (`model.to_device(&Device::Cpu)`).
    ///
    /// # Errors
    /// [`EstimatorError::Device`] for a CUDA device that is not present; transfer errors.
    fn to_device(&self, device: &Device) -> Result<Self::At<OnDevice>> {
        check_device(device)?;
        self.relocate::<OnDevice>(*device)
    }

    /// The model with its attributes as ndarray arrays on the host; it then predicts and
    /// transforms ndarray input.
    ///
    /// # Errors
    /// Transfer errors.
    fn to_host(&self) -> Result<Self::At<Host>> {
        self.relocate::<Host>(Device::default_device())
    }
}

/// Nothing to move: the final model of a pipeline of transformers only.
impl Relocate for () {
    type At<T: Place> = ();
    fn relocate<T: Place>(&self, _: Device) -> Result<()> {
        Ok(())
    }
}

/// Whether `device` can hold tensors here: a CUDA device needs a driver and that many GPUs.
///
/// # Errors
/// [`EstimatorError::Device`] for a CUDA device that is not present.
pub fn check_device(device: &Device) -> Result<()> {
    if let Device::Cuda(n) = *device {
        let count = if kiln_runtime::cuda_available() { kiln_runtime::cuda_device_count() } else { 0 };
        if n >= count {
            return Err(EstimatorError::Device(format!(
                "cannot move a model to {device}: {count} CUDA device(s) present on this machine"
            )));
        }
    }
    Ok(())
}

/// A fitted model saved as JSON and loaded back (every fitted model with [`Relocate`]).
///
/// The file is `{"format": "kiln-model", "version": 1, "model": "<type>", "attributes": {...}}`
/// with `<type>` the host model's type (`StandardScaler<f64, Host>`); loading checks all
/// four, then the attributes' shapes against each other.
pub trait Persist: Relocate + Serialize {
    /// The model as JSON text (its attributes copied to the host first). JSON has no NaN or
    /// infinity: a model holding one writes `null` there, which loading rejects.
    ///
    /// # Errors
    /// Transfer errors; [`EstimatorError::Persist`] for a model that cannot be written (a
    /// pipeline holding a `FunctionTransformer`).
    fn to_json(&self) -> Result<String> {
        let attributes =
            serde_json::to_value(self).map_err(|e| EstimatorError::Persist(format!("cannot write the model: {e}")))?;
        let envelope = serde_json::json!({
            "format": "kiln-model",
            "version": FORMAT_VERSION,
            "model": model_name::<Self::At<Host>>(),
            "attributes": attributes,
        });
        serde_json::to_string(&envelope).map_err(|e| EstimatorError::Persist(format!("cannot write the model: {e}")))
    }

    /// Write the model to `path` as JSON ([`Persist::to_json`]).
    ///
    /// # Errors
    /// Transfer errors; the file cannot be written.
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()?)
            .map_err(|e| EstimatorError::Persist(format!("cannot write {}: {e}", path.display())))
    }

    /// The model [`Persist::to_json`] wrote, on the host (`to_device` then puts it anywhere).
    ///
    /// # Errors
    /// [`EstimatorError::Persist`]: not JSON, another format, version or model type, missing
    /// or extra attributes, attributes of the wrong type, shape or value (NaN, infinity).
    fn from_json(text: &str) -> Result<Self>
    where
        Self: DeserializeOwned,
    {
        let bad = |what: String| EstimatorError::Persist(what);
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not a saved kiln model: {e}")))?;
        let field = |v: &serde_json::Value, k: &str| v.get(k).cloned().unwrap_or(serde_json::Value::Null);
        if field(&value, "format") != "kiln-model" {
            return Err(bad("not a saved kiln model: no \"format\": \"kiln-model\"".into()));
        }
        if field(&value, "version") != FORMAT_VERSION {
            return Err(bad(format!(
                "saved model format version {} is not the version this kiln reads ({FORMAT_VERSION})",
                field(&value, "version")
            )));
        }
        let expected = model_name::<Self>();
        if field(&value, "model") != expected.as_str() {
            return Err(bad(format!("the file holds a {} model, not a {expected}", field(&value, "model"))));
        }
        let attributes = value.get_mut("attributes").map(serde_json::Value::take).unwrap_or_default();
        serde_json::from_value(attributes).map_err(|e| bad(format!("invalid {expected} attributes: {e}")))
    }

    /// Read a model [`Persist::save`] wrote (see [`Persist::from_json`]).
    ///
    /// # Errors
    /// The file cannot be read; as [`Persist::from_json`].
    fn load(path: impl AsRef<Path>) -> Result<Self>
    where
        Self: DeserializeOwned,
    {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| EstimatorError::Persist(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&text)
    }
}

impl<M: Relocate + Serialize> Persist for M {}

/// A type's name without module paths: `StandardScaler<f64, Host>`.
fn model_name<M>() -> String {
    let full = std::any::type_name::<M>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            word.clear();
        } else if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

/// A vector attribute moved from storage `S` to `T` (through the host).
///
/// # Errors
/// Transfer errors.
pub fn vec<S: Storage, T: Storage, E: Element>(v: &S::Vec<E>, device: Device) -> Result<T::Vec<E>> {
    T::vec_from_host(S::vec_to_host(v)?, device)
}

/// A matrix attribute moved from storage `S` to `T` (through the host).
///
/// # Errors
/// Transfer errors.
pub fn mat<S: Storage, T: Storage, E: Element>(m: &S::Mat<E>, device: Device) -> Result<T::Mat<E>> {
    T::mat_from_host(S::mat_to_host(m)?, device)
}

/// An optional vector attribute moved from `S` to `T`.
///
/// # Errors
/// Transfer errors.
pub fn opt_vec<S: Storage, T: Storage, E: Element>(v: &Option<S::Vec<E>>, device: Device) -> Result<Option<T::Vec<E>>> {
    v.as_ref().map(|v| vec::<S, T, E>(v, device)).transpose()
}

/// An optional matrix attribute moved from `S` to `T`.
///
/// # Errors
/// Transfer errors.
pub fn opt_mat<S: Storage, T: Storage, E: Element>(m: &Option<S::Mat<E>>, device: Device) -> Result<Option<T::Mat<E>>> {
    m.as_ref().map(|m| mat::<S, T, E>(m, device)).transpose()
}

/// A list of arrays of matrix attributes moved from `S` to `T`.
///
/// # Errors
/// Transfer errors.
pub fn mats<S: Storage, T: Storage, E: Element>(
    list: &[[S::Mat<E>; 4]],
    device: Device,
) -> Result<Vec<[T::Mat<E>; 4]>> {
    list.iter()
        .map(|group| {
            let moved = group.iter().map(|m| mat::<S, T, E>(m, device)).collect::<Result<Vec<_>>>()?;
            moved.try_into().map_err(|_| EstimatorError::Device("a matrix group changed length while moving".into()))
        })
        .collect()
}

/// Plain data a fitted model keeps as it is (hyper-parameters, host tables): cloned when the
/// model moves, written and read by serde.
pub trait Attr: Clone + Serialize + DeserializeOwned {}
impl<A: Clone + Serialize + DeserializeOwned> Attr for A {}

/// The estimator names a model may remember (a `name` field): a loaded name must be one.
const KNOWN_NAMES: &[&str] = &["NearestNeighbors", "KNeighborsClassifier", "KNeighborsRegressor"];

/// The static name equal to `name`, for a loaded `name` field.
///
/// # Errors
/// [`EstimatorError::Persist`] for an unknown name.
pub fn known_name(name: &str) -> Result<&'static str> {
    KNOWN_NAMES.iter().copied().find(|k| *k == name).ok_or_else(|| {
        EstimatorError::Persist(format!("unknown estimator name {name:?}; expected one of {KNOWN_NAMES:?}"))
    })
}

/// The dimensions named in a model's [`relocate!`] line, checked for agreement when loading.
#[derive(Debug, Default)]
pub struct Dims {
    seen: Vec<(&'static str, usize, &'static str)>,
}

impl Dims {
    /// Record that `field` has `value` along the dimension `name` (`_`: any); an error when
    /// an earlier field gave `name` another value.
    ///
    /// # Errors
    /// [`EstimatorError::Persist`] on disagreement.
    pub fn bind(&mut self, name: &'static str, value: usize, field: &'static str) -> Result<()> {
        if name == "_" {
            return Ok(());
        }
        match self.seen.iter().find(|(n, _, _)| *n == name) {
            Some(&(_, v, other)) if v != value => Err(EstimatorError::Persist(format!(
                "inconsistent attributes: {field} has {value} along '{name}' but {other} has {v}"
            ))),
            Some(_) => Ok(()),
            None => {
                self.seen.push((name, value, field));
                Ok(())
            }
        }
    }
}

/// An element of a loaded attribute: floats must be finite.
pub trait AttrElement {
    /// False for NaN and infinity.
    fn is_ok(&self) -> bool;
}
impl<F: crate::datasets::Real> AttrElement for F {
    fn is_ok(&self) -> bool {
        self.to_f64().is_finite()
    }
}
impl AttrElement for i64 {
    fn is_ok(&self) -> bool {
        true
    }
}

/// A loaded array attribute must hold finite values only.
///
/// # Errors
/// [`EstimatorError::Persist`] naming the field.
pub fn check_finite<A: AttrElement, R: Data<Elem = A>, D: Dimension>(
    a: &ArrayBase<R, D>,
    field: &'static str,
) -> Result<()> {
    if a.iter().all(AttrElement::is_ok) {
        Ok(())
    } else {
        Err(EstimatorError::Persist(format!("invalid attribute {field}: it holds NaN or infinity")))
    }
}

/// Implements [`Relocate`], `serde::Serialize` (any storage: through the host) and
/// `serde::Deserialize` (host models, checked) for a fitted model type:
///
/// ```text
/// crate::relocate!([F: Real] StandardScaler<F, @> {
///     mean: vec[d], var: vec[d], scale: vec[d], n_samples, n_features: size[d], params, _f
/// });
/// ```
///
/// `crate::relocate!(plain Binarizer)` for a fitted type without storage (moving is a copy).
/// `@` marks the storage parameter; every field is listed (the compiler checks it), each
/// with its kind and dimension names (see the module documentation).
#[macro_export]
#[doc(hidden)]
macro_rules! relocate {
    ([$($gp:ident : $bound:path),*] $name:ident < $($pre:ident ,)* @ $(, $post:ident)* > {
        $( $field:ident $( : $kind:ident $( [ $($dim:tt),* ] )? )? ),* $(,)?
    }) => {
        #[allow(non_camel_case_types, clippy::needless_update)]
        const _: () = {
            use $crate::relocate::Relocate as _;

            impl<$($gp: $bound,)* S: $crate::data::Storage> $crate::relocate::Relocate
                for $name<$($pre,)* S $(, $post)*>
            {
                type At<T: $crate::traits::Place> = $name<$($pre,)* T $(, $post)*>;
                fn relocate<T: $crate::traits::Place>(
                    &self,
                    device: ::kiln_runtime::Device,
                ) -> $crate::Result<Self::At<T>> {
                    let _ = device;
                    Ok($name { $( $field: $crate::relocate!(@move S, T, device, self.$field; $($kind)?) ),* })
                }
            }

            #[allow(non_camel_case_types)]
            #[derive(::serde::Serialize, ::serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Shadow<$($field),*> { $( $field: $field ),* }

            impl<$($gp: $bound,)* S: $crate::data::Storage> ::serde::Serialize
                for $name<$($pre,)* S $(, $post)*>
            {
                fn serialize<Ser: ::serde::Serializer>(&self, ser: Ser) -> ::std::result::Result<Ser::Ok, Ser::Error> {
                    let host = self
                        .relocate::<$crate::data::Host>(::kiln_runtime::Device::default_device())
                        .map_err(<Ser::Error as ::serde::ser::Error>::custom)?;
                    ::serde::Serialize::serialize(
                        &Shadow { $( $field: $crate::relocate!(@ser host.$field; $($kind)?) ),* },
                        ser,
                    )
                }
            }

            impl<'de, $($gp: $bound,)*> ::serde::Deserialize<'de>
                for $name<$($pre,)* $crate::data::Host $(, $post)*>
            {
                fn deserialize<De: ::serde::Deserializer<'de>>(de: De) -> ::std::result::Result<Self, De::Error> {
                    let shadow = <Shadow<$($crate::relocate!(@infer $field)),*> as ::serde::Deserialize>::deserialize(de)?;
                    let model: Self = $name { $( $field: $crate::relocate!(@de shadow.$field; $($kind)?) ),* };
                    let check = || -> $crate::Result<()> {
                        let mut dims = $crate::relocate::Dims::default();
                        let _ = &mut dims;
                        $( $crate::relocate!(@check dims, model.$field, stringify!($field); $($kind $([$($dim),*])?)?); )*
                        Ok(())
                    };
                    check().map_err(<De::Error as ::serde::de::Error>::custom)?;
                    Ok(model)
                }
            }
        };
    };

    (plain $name:ident) => {
        impl $crate::relocate::Relocate for $name {
            type At<T: $crate::traits::Place> = $name;
            fn relocate<T: $crate::traits::Place>(&self, _: ::kiln_runtime::Device) -> $crate::Result<$name> {
                Ok(::std::clone::Clone::clone(self))
            }
        }
    };

    (@move $s:ident, $t:ident, $d:ident, $e:expr; ) => { ::std::clone::Clone::clone(&$e) };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; size) => { $e };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; name) => { $e };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; list) => { ::std::clone::Clone::clone(&$e) };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; device) => { $d };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; model) => { $e.relocate::<$t>($d)? };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; mats) => { $crate::relocate::mats::<$s, $t, _>(&$e, $d)? };
    (@move $s:ident, $t:ident, $d:ident, $e:expr; $kind:ident) => { $crate::relocate::$kind::<$s, $t, _>(&$e, $d)? };

    (@infer $f:ident) => { _ };
    (@ser $e:expr; device) => { () };
    (@ser $e:expr; $($kind:ident)?) => { &$e };

    (@de $e:expr; device) => {{
        let () = $e;
        ::kiln_runtime::Device::default_device()
    }};
    (@de $e:expr; name) => {{
        let name: ::std::string::String = $e;
        $crate::relocate::known_name(&name).map_err(<De::Error as ::serde::de::Error>::custom)?
    }};
    (@de $e:expr; $($kind:ident)?) => { $e };

    (@check $dims:ident, $e:expr, $f:expr; vec [$a:tt]) => {
        $crate::relocate::check_finite(&$e, $f)?;
        $dims.bind(stringify!($a), $e.len(), $f)?;
    };
    (@check $dims:ident, $e:expr, $f:expr; mat [$a:tt, $b:tt]) => {
        $crate::relocate::check_finite(&$e, $f)?;
        $dims.bind(stringify!($a), $e.nrows(), $f)?;
        $dims.bind(stringify!($b), $e.ncols(), $f)?;
    };
    (@check $dims:ident, $e:expr, $f:expr; opt_vec [$a:tt]) => {
        if let Some(v) = &$e {
            $crate::relocate!(@check $dims, *v, $f; vec [$a]);
        }
    };
    (@check $dims:ident, $e:expr, $f:expr; opt_mat [$a:tt, $b:tt]) => {
        if let Some(m) = &$e {
            $crate::relocate!(@check $dims, *m, $f; mat [$a, $b]);
        }
    };
    (@check $dims:ident, $e:expr, $f:expr; list [$a:tt]) => {
        $dims.bind(stringify!($a), $e.len(), $f)?;
    };
    (@check $dims:ident, $e:expr, $f:expr; size [$a:tt]) => {
        $dims.bind(stringify!($a), $e, $f)?;
    };
    (@check $dims:ident, $e:expr, $f:expr; vec) => { $crate::relocate::check_finite(&$e, $f)?; };
    (@check $dims:ident, $e:expr, $f:expr; mat) => { $crate::relocate::check_finite(&$e, $f)?; };
    (@check $dims:ident, $e:expr, $f:expr; mats) => {
        for group in &$e {
            for m in group {
                $crate::relocate::check_finite(m, $f)?;
            }
        }
    };
    (@check $dims:ident, $e:expr, $f:expr; $($kind:ident)?) => {};
}
