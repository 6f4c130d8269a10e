//! A [`Leaf`] inside rust-hdl: rust-hdl does ports, hierarchy and
//! composition; the leaf does the logic, as Verilog text (a
//! `Verilog::Custom` body) and as a simulating `update()`.
//!
//! Why the split (rust-hdl 0.46's limits): `#[hdl_gen]` has no local
//! bindings and no indexed writes, and every width is a type (`Bits<N>`), so
//! arithmetic whose widths come from a number format cannot be written in it.
//! A leaf's widths are run-time values checked while generating; its rust-hdl
//! shell (declared with [`leaf_block!`]) has typed ports, and
//! [`LeafSim::check_ports`] proves at construction that the two agree.

use super::leaf::{Kind, Leaf, State};
use num_bigint::BigUint;
use rust_hdl::prelude::*;
use std::sync::Arc;

/// A value of a rust-hdl signal type as an unsigned integer.
pub trait PortValue: Synth {
    fn to_big(self) -> BigUint;
    fn from_big(v: &BigUint) -> Self;
}
impl<const N: usize> PortValue for Bits<N> {
    fn to_big(self) -> BigUint {
        self.into()
    }
    fn from_big(v: &BigUint) -> Self {
        v.clone().into()
    }
}
impl PortValue for bool {
    fn to_big(self) -> BigUint {
        BigUint::from(self as u8)
    }
    fn from_big(v: &BigUint) -> Self {
        v.bit(0)
    }
}
impl PortValue for Clock {
    fn to_big(self) -> BigUint {
        BigUint::from(self.clk as u8)
    }
    fn from_big(v: &BigUint) -> Self {
        Clock { clk: v.bit(0) }
    }
}

/// One port of a rust-hdl shell, seen by the leaf's simulation: inputs are
/// read into the leaf, outputs written from it.
pub trait SimPort {
    const IS_INPUT: bool;
    const BITS: usize;
    fn read_into(&self, sim: &mut LeafSim, name: &str);
    fn write_from(&mut self, sim: &LeafSim, name: &str);
    fn connect_output(&mut self);
}
impl<T: PortValue> SimPort for Signal<In, T> {
    const IS_INPUT: bool = true;
    const BITS: usize = T::BITS;
    fn read_into(&self, sim: &mut LeafSim, name: &str) {
        sim.leaf.set(&mut sim.state, name, self.val().to_big());
    }
    fn write_from(&mut self, _: &LeafSim, _: &str) {}
    fn connect_output(&mut self) {}
}
impl<T: PortValue> SimPort for Signal<Out, T> {
    const IS_INPUT: bool = false;
    const BITS: usize = T::BITS;
    fn read_into(&self, _: &mut LeafSim, _: &str) {}
    fn write_from(&mut self, sim: &LeafSim, name: &str) {
        self.next = T::from_big(&sim.leaf.get(&sim.state, name));
    }
    fn connect_output(&mut self) {
        self.connect();
    }
}

/// The leaf and its simulation state, held by a rust-hdl shell.
#[derive(Clone, Debug)]
pub struct LeafSim {
    pub leaf: Arc<Leaf>,
    state: State,
    clock: Option<(String, bool)>,
}

impl LeafSim {
    pub fn new(leaf: Leaf) -> Self {
        let state = leaf.initial_state();
        let clock = leaf.clock_name().map(|c| (c.to_string(), false));
        LeafSim {
            leaf: Arc::new(leaf),
            state,
            clock,
        }
    }
    /// The shell's ports (name, is input, width), in order, must be the leaf's.
    pub fn check_ports(&self, shell: &[(&str, bool, usize)]) -> Result<(), String> {
        let leaf: Vec<(String, bool, usize)> = self
            .leaf
            .ports()
            .map(|d| (d.name.to_string(), d.kind == Kind::Input, d.width as usize))
            .collect();
        let shell: Vec<(String, bool, usize)> = shell
            .iter()
            .map(|(n, i, w)| (n.to_string(), *i, *w))
            .collect();
        if leaf == shell {
            return Ok(());
        }
        let show = |v: &[(String, bool, usize)]| {
            v.iter()
                .map(|(n, i, w)| format!("{} {n}[{w}]", if *i { "in" } else { "out" }))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(format!(
            "block `{}`: rust-hdl ports ({}) differ from the leaf's ({})",
            self.leaf.name,
            show(&shell),
            show(&leaf)
        ))
    }
    /// After the inputs are read: step the registers on a rising clock edge,
    /// else settle the logic.
    pub fn evaluate(&mut self) {
        let rising = match &mut self.clock {
            Some((name, last)) => {
                let now = self.leaf.get(&self.state, name).bit(0);
                let rising = now && !*last;
                *last = now;
                rising
            }
            None => false,
        };
        if rising {
            self.leaf.step(&mut self.state);
        } else {
            self.leaf.settle(&mut self.state);
        }
    }
}

/// Declares the rust-hdl shell of a leaf block: a `LogicBlock` with the given
/// typed ports, whose `update()` simulates the leaf and whose `hdl()` is the
/// leaf's Verilog. `new(leaf)` fails if the leaf's ports differ.
///
/// ```ignore
/// leaf_block! { pub struct Pack { pub mid: In<Bits<18>>, pub h: Out<Bits<8>> } }
/// leaf_block! { pub struct Step<const I: usize, const O: usize> { pub a: In<Bits<I>>, pub b: Out<Bits<O>> } }
/// ```
#[macro_export]
macro_rules! leaf_block {
    ($(#[$m:meta])* $vis:vis struct $name:ident $(<$(const $g:ident : usize),+>)? { $($pvis:vis $port:ident : $dir:ident < $ty:ty >),* $(,)? }) => {
        $(#[$m])*
        #[derive(LogicBlock)]
        $vis struct $name $(<$(const $g: usize),+>)? {
            $($pvis $port: Signal<$dir, $ty>,)*
            _sim: $crate::ir::hdl::LeafSim,
        }
        impl $(<$(const $g: usize),+>)? $name $(<$($g),+>)? {
            /// The shell of `leaf`; an error if the leaf's ports are not this shell's.
            pub fn new(leaf: $crate::ir::Leaf) -> Result<Self, String> {
                use $crate::ir::hdl::SimPort;
                let s = Self { $($port: Default::default(),)* _sim: $crate::ir::hdl::LeafSim::new(leaf) };
                s._sim.check_ports(&[$((stringify!($port), <Signal<$dir, $ty> as SimPort>::IS_INPUT, <Signal<$dir, $ty> as SimPort>::BITS)),*])?;
                Ok(s)
            }
        }
        impl $(<$(const $g: usize),+>)? Logic for $name $(<$($g),+>)? {
            fn update(&mut self) {
                use $crate::ir::hdl::SimPort;
                $(self.$port.read_into(&mut self._sim, stringify!($port));)*
                self._sim.evaluate();
                $(self.$port.write_from(&self._sim, stringify!($port));)*
            }
            fn connect(&mut self) {
                use $crate::ir::hdl::SimPort;
                $(self.$port.connect_output();)*
            }
            fn hdl(&self) -> Verilog {
                Verilog::Custom(self._sim.leaf.body())
            }
        }
    };
}
