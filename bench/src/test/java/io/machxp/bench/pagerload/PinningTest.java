package io.machxp.bench.pagerload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** pager-efficiency's --pager-cpus and --load-cpus. */
class PinningTest {
    @Test
    void thePagerIsStartedUnderTasksetWithItsCpus() {
        assertThat(new Pinning("0", "1").pagerPrefix()).containsExactly("taskset", "-c", "0");
        assertThat(new Pinning("0-1,3", null).pagerPrefix()).containsExactly("taskset", "-c", "0-1,3");
    }

    @Test
    void notPinnedStartsThePagerAsBefore() {
        assertThat(Pinning.NONE.pagerPrefix()).isEmpty();
        assertThat(new Pinning(null, "1").pagerPrefix()).isEmpty();
    }

    @Test
    void aListThatIsNotACpuListIsAClearError() {
        assertThatThrownBy(() -> new Pinning("cpu0", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--pager-cpus cpu0").hasMessageContaining("such as 0, 1, 0-1 or 0,2");
        assertThatThrownBy(() -> new Pinning(null, "1;rm")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--load-cpus 1;rm");
    }
}
