package io.machxp.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexEntry;
import org.junit.jupiter.api.Test;

/** A page's futex table has one slot per futex, whatever the page size, and finds them by word. */
class PageFutexTableTest {
    @Test
    void oneSlotPerFutexFoundByItsWord() {
        VmPage page = new VmPage(1, 0, 65536);
        FutexEntry last = page.futex(65532);
        FutexEntry first = page.futex(0);
        FutexEntry middle = page.futex(4096);
        assertThat(page.futexCount()).as("3 slots, not 16,384").isEqualTo(3);
        assertThat(page.futexWords()).containsExactly(0, 4096, 65532);
        assertThat(page.futexIfPresent(4096)).isSameAs(middle);
        assertThat(page.futexIfPresent(65532)).isSameAs(last);
        assertThat(page.futexIfPresent(0)).isSameAs(first);
        assertThat(page.futexIfPresent(4)).isNull();
        assertThat(page.futex(4096)).as("made once").isSameAs(middle);
        assertThat(page.futexCount()).isEqualTo(3);
    }

    @Test
    void aRangeHoldsAFutexWordOnlyIfOneLiesInIt() {
        PageFutexTable t = PageFutexTable.EMPTY.with(10, null).with(2, null);
        assertThat(t.anyIn(0, 1)).isFalse();
        assertThat(t.anyIn(0, 2)).isTrue();
        assertThat(t.anyIn(3, 9)).isFalse();
        assertThat(t.anyIn(10, 10)).isTrue();
        assertThat(t.anyIn(11, 100)).isFalse();
        assertThat(t.offsets()).containsExactly(8, 40);
    }
}
