package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * --object-pagers as the kernel reads it: a pager number has one text, decimal without a sign or
 * leading zeros, the one its hellos state (xp-spec 12.41). xpreview-review LOW-3: "shared=00" was
 * read as pager 0 here while a pager compared the text "00" with "0"; a pager now refuses such a
 * view, and the kernel refuses the assignment at its start, so no two readers can disagree.
 */
class PagerDirectoryParseTest {
    @Test
    void aPagerNumberWithALeadingZeroOrASignIsRefusedWithItsCanonicalForm() {
        assertThatThrownBy(() -> PagerDirectory.parse(2, "shared=00")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'shared=00'").hasMessageContaining("without a sign or leading zeros")
                .hasMessageContaining("e.g. shared=0)");
        assertThatThrownBy(() -> PagerDirectory.parse(2, "a=0,shared=01")).hasMessageContaining("e.g. shared=1)");
        assertThatThrownBy(() -> PagerDirectory.parse(2, "shared=+1")).hasMessageContaining("'shared=+1'");
        assertThatThrownBy(() -> PagerDirectory.parse(2, "shared=-0")).hasMessageContaining("'shared=-0'");
    }

    @Test
    void canonicalNumbersAreReadAndStatedAsWritten() {
        PagerDirectory d = PagerDirectory.parse(3, "a=2, b=0,c=1");
        assertThat(d.pagerOf("a")).isEqualTo(2);
        assertThat(d.pagerOf("b")).isZero();
        assertThat(d.viewFor(0).getAssignmentsList()).allSatisfy(a -> assertThat(a).matches(".*=(0|[1-9][0-9]*)"));
    }
}
