//! Which modules are generated: the default IP set (`make rtl`), the QoR
//! report's extra configurations, and the parameter sweep's random ones.

pub mod defaults;
pub mod qor;
pub mod sweep;
