//! Small helpers for the Verilog text of leaf blocks: sized literals and
//! constant tables written as `case` statements (synthesis turns them into
//! logic; no `initial`-loaded memories, which ASIC flows ignore).

/// A sized hexadecimal literal, e.g. `lit(12, 5)` = `12'h005`.
pub fn lit(width: u32, value: u64) -> String {
    let digits = ((width + 3) / 4) as usize;
    let mask = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
    format!("{width}'h{:0digits$x}", value & mask)
}

/// A sized two's-complement literal of a signed value.
pub fn lit_signed(width: u32, value: i64) -> String {
    lit(width, value as u64)
}

/// `always @(*) case (sel) ... endcase` assigning `target`; rows are (index, value).
/// Rows not listed take `default` (and, if given, `flag` is 0 there, 1 on listed rows).
pub fn case_table(
    sel: &str,
    sel_width: u32,
    target: &str,
    width: u32,
    rows: &[(u64, u64)],
    default: u64,
    flag: Option<&str>,
) -> String {
    let mut s = String::from("always @(*) begin\n");
    if let Some(f) = flag {
        s += &format!("    {f} = 1'b1;\n");
    }
    s += &format!("    case ({sel})\n");
    for (i, v) in rows {
        s += &format!("        {}: {target} = {};\n", lit(sel_width, *i), lit(width, *v));
    }
    s += "        default: begin\n";
    s += &format!("            {target} = {};\n", lit(width, default));
    if let Some(f) = flag {
        s += &format!("            {f} = 1'b0;\n");
    }
    s += "        end\n    endcase\nend\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn literals() {
        assert_eq!(lit(12, 5), "12'h005");
        assert_eq!(lit_signed(10, -1), "10'h3ff");
        assert_eq!(lit(1, 1), "1'h1");
    }
}
