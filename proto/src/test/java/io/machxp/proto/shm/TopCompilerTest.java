package io.machxp.proto.shm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The rule {@link TopCompiler} applies to a JVM's options: the coarse clock's downcall is compiled
 * only where C2 runs (tiered up to level 4, or alone); C1 only or no JIT is refused with a reason
 * {@link TaskClock#describe()} shows; options it cannot read change nothing.
 */
class TopCompilerTest {
    @Test
    void c1OnlyOrNoJitIsRefusedWithItsReason() {
        assertThat(TopCompiler.missingC2("true", "true", "1")).startsWith("C1 only (-XX:TieredStopAtLevel=1)");
        assertThat(TopCompiler.missingC2("true", "true", "3")).startsWith("C1 only (-XX:TieredStopAtLevel=3)");
        assertThat(TopCompiler.missingC2("true", "true", "0")).startsWith("no JIT (-XX:TieredStopAtLevel=0)");
        assertThat(TopCompiler.missingC2("false", "false", "4")).startsWith("no JIT (-Xint)");
    }

    @Test
    void c2TieredOrAloneOrUnknownOptionsAreTaken() {
        assertThat(TopCompiler.missingC2("true", "true", "4")).isNull();
        assertThat(TopCompiler.missingC2("true", "false", "1")).as("tiered off: C2 alone, the level unused").isNull();
        assertThat(TopCompiler.missingC2(null, null, null)).isNull();
        assertThat(TopCompiler.missingC2("true", "true", "four")).isNull();
    }

    @Test
    void thisJvmRunsC2() {
        assertThat(TopCompiler.missingC2()).as("surefire's JVM runs the default tiers").isNull();
    }
}
