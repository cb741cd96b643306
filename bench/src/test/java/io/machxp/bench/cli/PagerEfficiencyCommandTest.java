package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PagerEfficiencyCommandTest {
    @Test
    void aHeapSizeFixesThePagersHeapAndTouchesItAtStart() {
        assertThat(PagerEfficiencyCommand.heapArgs("256m"))
                .containsExactly("-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch");
        assertThat(PagerEfficiencyCommand.heapArgs("1G")).containsExactly("-Xms1G", "-Xmx1G", "-XX:+AlwaysPreTouch");
    }

    @Test
    void jvmLeavesTheHeapToTheJvm() {
        assertThat(PagerEfficiencyCommand.heapArgs("jvm")).isEmpty();
    }

    @Test
    void aHeapThatIsNotASizeIsAClearError() {
        assertThatThrownBy(() -> PagerEfficiencyCommand.heapArgs("-Xmx1g"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--pager-heap -Xmx1g").hasMessageContaining("such as 256m");
    }
}
