//! The one place where run-time sizes become rust-hdl types.
//!
//! rust-hdl 0.46 types every port width (`Bits<N>`), so a block whose ports
//! depend on LANES or on a number format exists once per width; these macros
//! pick the instance for a run-time value. Every generator goes through them.

/// `mono!(value, |C| body, [v1, v2, ...])`: evaluates `body` with the constant
/// `C: usize` equal to `value` (one of the listed literals); `C` can appear in
/// const-generic arguments (`Block::<{ 16 * C }>`). Nest for several sizes.
#[macro_export]
macro_rules! mono {
    ($sel:expr, |$c:ident| $body:expr, [$($v:literal),+ $(,)?]) => {
        match $sel as usize {
            $($v => {
                #[allow(non_upper_case_globals)]
                const $c: usize = $v;
                $body
            })+
            other => panic!("no {} = {other} instance (validated configurations never get here)", stringify!($c)),
        }
    };
}

/// [`mono!`] over every legal LANES, 1..=16.
#[macro_export]
macro_rules! mono_lanes {
    ($sel:expr, |$c:ident| $body:expr) => {
        $crate::mono!($sel, |$c| $body, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
    };
}

#[cfg(test)]
mod tests {
    struct Sized<const N: usize>;
    impl<const N: usize> Sized<N> {
        fn width(&self) -> usize {
            N
        }
    }
    #[test]
    fn picks_the_instance_of_a_runtime_value() {
        for lanes in 1..=16u32 {
            let w = crate::mono_lanes!(lanes, |L| crate::mono!(2, |K| Sized::<{ 8 * L + K }>.width(), [1, 2]));
            assert_eq!(w, 8 * lanes as usize + 2);
        }
    }
}
