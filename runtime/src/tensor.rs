//! Tensors: n-d arrays that live on a device, so computation follows the data.
//!
//! A [`Tensor<T>`] on `Cpu`, `Interp` or `CudaSim` holds host memory (an ndarray array shared
//! behind an `Arc`, so clones are cheap); on `Cuda(n)` it holds a buffer in that GPU's memory, in
//! row-major order. A kernel called with tensors (the `NAME::tensors(...)` entry point that
//! `#[kernel]` generates beside `NAME(...)`) runs on the tensors' device and returns tensors on
//! it. Tensors on different devices, or a CudaSim/Cuda tensor beside a host ndarray array, are
//! a typed error ([`Error::DeviceMismatch`]): kiln never copies between devices behind the
//! caller's back. [`Tensor::to_device`] and [`Tensor::to_array`] are the explicit copies.

use crate::args::{Arg, Element};
use crate::device::Device;
use crate::error::{Error, Result};
use kiln_ir::{with_value, DType, Value};
use ndarray::{Array, ArrayBase, ArrayD, ArrayViewD, Data, Dimension, IxDyn};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A device buffer holding a tensor's elements in row-major order, as raw bytes.
pub(crate) struct CudaBuffer {
    pub(crate) device: Arc<kiln_cuda::driver::CudaDevice>,
    pub(crate) bytes: kiln_cuda::driver::CudaSlice<u8>,
}

impl fmt::Debug for CudaBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CudaBuffer({} bytes on cuda:{})", self.bytes.len(), self.device.ordinal())
    }
}

/// Where a tensor's elements are.
#[derive(Debug, Clone)]
pub(crate) enum Storage {
    Host(Arc<Value>),
    Cuda(Arc<CudaBuffer>),
}

/// A tensor with its element type erased: what kernel calls pass around.
#[derive(Debug, Clone)]
pub struct AnyTensor {
    pub(crate) device: Device,
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    pub(crate) storage: Storage,
}

impl AnyTensor {
    /// A host tensor on `device` (one of the host-memory devices) owning `value`.
    pub(crate) fn host(device: Device, value: Value) -> AnyTensor {
        AnyTensor {
            device,
            dtype: value.dtype(),
            shape: value.shape().to_vec(),
            storage: Storage::Host(Arc::new(value)),
        }
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The host value, for tensors in host memory.
    pub(crate) fn host_value(&self) -> Option<&Value> {
        match &self.storage {
            Storage::Host(v) => Some(v),
            Storage::Cuda(_) => None,
        }
    }

    /// A copy of the elements on the host.
    pub fn to_value(&self) -> Result<Value> {
        match &self.storage {
            Storage::Host(v) => Ok((**v).clone()),
            Storage::Cuda(buf) => {
                let bytes = buf.device.download(&buf.bytes).map_err(|e| cuda_error(self.device, e))?;
                value_from_bytes(self.dtype, &self.shape, &bytes)
            }
        }
    }

    /// The same elements on `device`: shares the host memory between host devices, copies
    /// to or from a GPU.
    pub fn to_device(&self, device: Device) -> Result<AnyTensor> {
        match (&self.storage, device) {
            (Storage::Host(v), Device::Cpu | Device::Interp | Device::CudaSim) => {
                Ok(AnyTensor { device, storage: Storage::Host(v.clone()), ..self.clone() })
            }
            (Storage::Cuda(_), d) if d == self.device => Ok(self.clone()),
            _ => AnyTensor::from_value(&self.to_value()?, device),
        }
    }

    /// Copy a host value to `device`.
    pub fn from_value(value: &Value, device: Device) -> Result<AnyTensor> {
        match device {
            Device::Cpu | Device::Interp | Device::CudaSim => Ok(AnyTensor::host(device, standard(value))),
            Device::Cuda(n) => {
                let dev = kiln_cuda::driver::CudaDevice::open(n).map_err(|e| cuda_error(device, e))?;
                let value = standard(value);
                let bytes = with_value!(&value, a => to_bytes(a.as_slice().unwrap_or(&[])));
                // A zero-length device allocation is refused by some drivers: keep one byte.
                let bytes = if bytes.is_empty() { vec![0u8] } else { bytes };
                let buf = dev.upload(&bytes).map_err(|e| cuda_error(device, e))?;
                Ok(AnyTensor {
                    device,
                    dtype: value.dtype(),
                    shape: value.shape().to_vec(),
                    storage: Storage::Cuda(Arc::new(CudaBuffer { device: dev, bytes: buf })),
                })
            }
        }
    }
}

/// The value in standard (row-major, contiguous) layout, copied only when it is not already.
fn standard(value: &Value) -> Value {
    macro_rules! each {
        ($($v:ident),*) => {
            match value {
                $(Value::$v(a) => Value::$v(if a.is_standard_layout() { a.clone() } else { a.as_standard_layout().into_owned() }),)*
            }
        };
    }
    each!(F32, F64, I32, I64, U32, Bool)
}

/// Rebuild a value of `dtype` and `shape` from the row-major bytes of its elements.
pub(crate) fn value_from_bytes(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Value> {
    let n: usize = shape.iter().product();
    let mut v = Value::zeros(dtype, shape);
    with_value!(&mut v, a => {
        let out = a.as_slice_mut().unwrap_or(&mut []);
        let want = std::mem::size_of_val(out);
        if bytes.len() < want || out.len() != n {
            let what = format!("a device buffer holds {} bytes, {dtype}{shape:?} needs {want}", bytes.len());
            return Err(Error::invariant("", what));
        }
        from_bytes(out, &bytes[..want]);
    });
    Ok(v)
}

/// An element type as the bytes a device buffer holds: its native-endian bytes (`bool` one
/// byte, 0 or 1), converted value by value so that no memory is reinterpreted.
trait Bytes: Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    /// The value of `Self::SIZE` bytes.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! number_bytes {
    ($($t:ty),*) => {$(
        impl Bytes for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_ne_bytes(b)
            }
        }
    )*};
}
number_bytes!(f32, f64, i32, i64, u32);

impl Bytes for bool {
    const SIZE: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn get(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

/// The bytes of `elems`, in order.
fn to_bytes<T: Bytes>(elems: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(elems.len() * T::SIZE);
    for &e in elems {
        e.put(&mut out);
    }
    out
}

/// `out` filled from `bytes`, which holds exactly `out.len()` elements.
fn from_bytes<T: Bytes>(out: &mut [T], bytes: &[u8]) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(T::SIZE)) {
        *o = T::get(b);
    }
}

pub(crate) fn cuda_error(device: Device, e: kiln_cuda::nvrtc::CudaError) -> Error {
    Error::DeviceUnavailable { device, source: e }
}

/// An n-d array of `T` on a [`Device`].
///
/// ```
/// use kiln_runtime::{Device, Tensor};
/// let x = ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
/// let t = Tensor::from_array(&x, Device::CudaSim)?;
/// assert_eq!(t.device(), Device::CudaSim);
/// assert_eq!(t.shape(), &[2, 2]);
/// assert_eq!(t.to_array::<ndarray::Ix2>()?, x);
/// # Ok::<(), kiln_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Tensor<T: Element> {
    inner: AnyTensor,
    _elem: PhantomData<T>,
}

impl<T: Element> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor<{}>{:?} on {}", T::DTYPE, self.inner.shape, self.inner.device)
    }
}

impl<T: Element> Tensor<T> {
    /// Copy an ndarray array (any layout) to `device`.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] when `device` is a GPU that cannot be opened.
    pub fn from_array<S: Data<Elem = T>, D: Dimension>(
        a: &ArrayBase<S, D>,
        device: impl std::borrow::Borrow<Device>,
    ) -> Result<Tensor<T>> {
        let device = *device.borrow();
        let owned: ArrayD<T> = a.as_standard_layout().into_owned().into_dyn();
        let value = T::into_value(owned);
        match device {
            Device::Cpu | Device::Interp | Device::CudaSim => Ok(Tensor::wrap(AnyTensor::host(device, value))),
            Device::Cuda(_) => Ok(Tensor::wrap(AnyTensor::from_value(&value, device)?)),
        }
    }

    /// Take ownership of an array as a tensor: no copy on a host device (`Cpu`, `Interp`,
    /// `CudaSim`), one copy to a GPU.
    ///
    /// # Errors
    /// [`Error::DeviceUnavailable`] when `device` is a GPU that cannot be opened.
    pub fn from_owned<D: Dimension>(a: Array<T, D>, device: impl std::borrow::Borrow<Device>) -> Result<Tensor<T>> {
        let device = *device.borrow();
        match device {
            Device::Cpu | Device::Interp | Device::CudaSim => {
                Ok(Tensor::wrap(AnyTensor::host(device, T::into_value(a.into_dyn()))))
            }
            Device::Cuda(_) => Tensor::from_array(&a, device),
        }
    }

    pub(crate) fn wrap(inner: AnyTensor) -> Tensor<T> {
        Tensor { inner, _elem: PhantomData }
    }

    /// Type a kernel output.
    ///
    /// # Errors
    /// [`Error::OutputType`] when its dtype is not `T` (a bug in generated glue).
    pub fn from_any(inner: AnyTensor) -> Result<Tensor<T>> {
        if inner.dtype != T::DTYPE {
            return Err(Error::OutputType {
                got: format!("{}{:?}", inner.dtype, inner.shape),
                expected: T::DTYPE.to_string(),
            });
        }
        Ok(Tensor::wrap(inner))
    }

    /// The type-erased tensor.
    pub fn as_any(&self) -> &AnyTensor {
        &self.inner
    }

    pub fn device(&self) -> Device {
        self.inner.device
    }

    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    pub fn ndim(&self) -> usize {
        self.inner.shape.len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.inner.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A view of the elements when they are in host memory (`Cpu`, `Interp`, `CudaSim`), without
    /// copying; `None` on a GPU.
    pub fn host_view(&self) -> Option<ArrayViewD<'_, T>> {
        self.inner.host_value().and_then(T::view_value)
    }

    /// Copy the elements to the host as an array of dimension `D`.
    ///
    /// # Errors
    /// [`Error::OutputType`] when the tensor's rank is not `D`'s; device errors for a GPU.
    pub fn to_array<D: Dimension>(&self) -> Result<Array<T, D>> {
        let dynamic = match self.host_view() {
            Some(v) => v.to_owned(),
            None => T::unwrap(self.inner.to_value()?).ok_or_else(|| self.rank_error::<D>())?,
        };
        dynamic.into_dimensionality::<D>().map_err(|_| self.rank_error::<D>())
    }

    /// The elements on the host as an array of dimension `D`, without copying when this is
    /// the only handle to host memory.
    ///
    /// # Errors
    /// As [`Tensor::to_array`].
    pub fn into_array<D: Dimension>(self) -> Result<Array<T, D>> {
        let (e1, e2) = (self.rank_error::<D>(), self.rank_error::<D>());
        let device = self.inner.device;
        let dynamic = match self.inner.storage {
            Storage::Host(v) => match Arc::try_unwrap(v) {
                Ok(value) => T::unwrap(value),
                Err(shared) => T::view_value(&shared).map(|a| a.to_owned()),
            },
            Storage::Cuda(_) => {
                let value = AnyTensor { device, storage: self.inner.storage, ..self.inner }.to_value()?;
                T::unwrap(value)
            }
        };
        dynamic.ok_or(e1)?.into_dimensionality::<D>().map_err(|_| e2)
    }

    /// The only element of a tensor of one element (a scalar kernel output), copied to the host.
    ///
    /// # Errors
    /// [`Error::OutputType`] when the tensor does not have exactly one element.
    pub fn item(&self) -> Result<T> {
        let a = self.to_array::<IxDyn>()?;
        match a.len() {
            1 => Ok(*a.iter().next().ok_or_else(|| self.rank_error::<IxDyn>())?),
            _ => Err(Error::OutputType {
                got: format!("{}{:?}", T::DTYPE, self.shape()),
                expected: "a tensor of one element".into(),
            }),
        }
    }

    /// The same elements on `device` (shared between host devices, copied to or from a GPU).
    ///
    /// # Errors
    /// Device errors for a GPU.
    pub fn to_device(&self, device: impl std::borrow::Borrow<Device>) -> Result<Tensor<T>> {
        Ok(Tensor::wrap(self.inner.to_device(*device.borrow())?))
    }

    fn rank_error<D: Dimension>(&self) -> Error {
        Error::OutputType {
            got: format!("{}{:?}", T::DTYPE, self.shape()),
            expected: format!(
                "{} of rank {}",
                T::DTYPE,
                D::NDIM.map(|r| r.to_string()).unwrap_or_else(|| "any".into())
            ),
        }
    }
}

/// One argument of a call through a kernel's `tensors` entry point.
#[derive(Debug, Clone)]
pub enum TensorArg<'a> {
    /// A scalar parameter (a 0-d host array; it goes wherever the kernel runs).
    Scalar(Arg<'a>),
    /// An ndarray array or view: host memory.
    Host(Arg<'a>),
    /// A tensor on its device.
    Tensor(&'a AnyTensor),
}

impl TensorArg<'_> {
    pub(crate) fn dtype(&self) -> DType {
        match self {
            TensorArg::Scalar(a) | TensorArg::Host(a) => a.dtype(),
            TensorArg::Tensor(t) => t.dtype,
        }
    }

    pub(crate) fn shape(&self) -> &[usize] {
        match self {
            TensorArg::Scalar(a) | TensorArg::Host(a) => a.shape(),
            TensorArg::Tensor(t) => &t.shape,
        }
    }
}

/// What a kernel's `tensors` entry point accepts for an array parameter of element type `T`
/// and dimension `D`: `&Tensor<T>` (on any device), or host arrays and views as [`crate::IntoArg`].
pub trait IntoTensorArg<'a, T: Element, D: Dimension> {
    fn into_tensor_arg(self) -> TensorArg<'a>;
}

impl<'a, T: Element, D: Dimension> IntoTensorArg<'a, T, D> for &'a Tensor<T> {
    fn into_tensor_arg(self) -> TensorArg<'a> {
        TensorArg::Tensor(&self.inner)
    }
}

impl<'a, T: Element, D: Dimension, S: Data<Elem = T>> IntoTensorArg<'a, T, D> for &'a ArrayBase<S, D> {
    fn into_tensor_arg(self) -> TensorArg<'a> {
        TensorArg::Host(crate::args::array_arg(self))
    }
}

impl<'a, T: Element, D: Dimension> IntoTensorArg<'a, T, D> for ndarray::ArrayView<'a, T, D> {
    fn into_tensor_arg(self) -> TensorArg<'a> {
        TensorArg::Host(crate::args::array_arg(self))
    }
}

impl<'a, T: Element, D: Dimension> IntoTensorArg<'a, T, D> for TensorArg<'a> {
    fn into_tensor_arg(self) -> TensorArg<'a> {
        self
    }
}

/// Type-erase an array argument of a `tensors` entry point (used by `#[kernel]` expansions).
pub fn tensor_arg<'a, T: Element, D: Dimension>(a: impl IntoTensorArg<'a, T, D>) -> TensorArg<'a> {
    a.into_tensor_arg()
}

/// Type-erase a scalar argument of a `tensors` entry point (used by `#[kernel]` expansions).
pub fn tensor_scalar<'a, T: Element>(v: T) -> TensorArg<'a> {
    TensorArg::Scalar(crate::args::scalar_arg(v))
}

/// Take the next output of a `tensors` call as a `Tensor<T>` (used by `#[kernel]` expansions).
pub fn take_tensor<T: Element>(outs: &mut std::vec::IntoIter<AnyTensor>) -> Result<Tensor<T>> {
    let t = outs
        .next()
        .ok_or_else(|| Error::OutputType { got: "nothing".into(), expected: format!("a tensor of {}", T::DTYPE) })?;
    Tensor::from_any(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_bytes_are_the_native_bytes_of_each_element_and_read_back_the_same() {
        let f = [1.5f32, -0.0, f32::NAN, f32::MIN_POSITIVE];
        let bytes = to_bytes(&f);
        assert_eq!(bytes, f.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>());
        let Value::F32(back) = value_from_bytes(DType::F32, &[2, 2], &bytes).expect("fits") else { panic!("dtype") };
        let back: Vec<u32> = back.iter().map(|v| v.to_bits()).collect();
        assert_eq!(back, f.iter().map(|v| v.to_bits()).collect::<Vec<u32>>(), "bit for bit, NaN too");

        let i = [i64::MIN, -1, 7];
        let Value::I64(back) = value_from_bytes(DType::I64, &[3], &to_bytes(&i)).expect("fits") else {
            panic!("dtype")
        };
        assert_eq!(back.iter().copied().collect::<Vec<_>>(), i);

        let b = [true, false, true];
        assert_eq!(to_bytes(&b), [1, 0, 1]);
        let Value::Bool(back) = value_from_bytes(DType::Bool, &[3], &[1, 0, 1]).expect("fits") else { panic!("dtype") };
        assert_eq!(back.iter().copied().collect::<Vec<_>>(), b);

        assert!(value_from_bytes(DType::F64, &[2], &[0; 15]).is_err(), "a short buffer is an error");
    }
}
