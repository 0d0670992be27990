//! kiln-cpu: the Cranelift backend. Not built yet (issue 3): `Device::Cpu` reports `Unsupported` until then.
