package io.machxp.conform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager kit's disputing view lists its assignments by object name in UTF-8 byte order (spec
 * 2.8, 12.41; dir3-review LOW-4), not by the whole "object=pager" strings: "ab" sorts before
 * "ab-x", though "ab-x=1" sorts before "ab=1" ('-' is below '=').
 */
class DirectoryCasesViewOrderTest {
    @Test
    void assignmentsSortByObjectNameNotByTheWholeString() {
        assertThat(DirectoryCases.byObjectName(List.of("ab-x=1", "ab=1"))).containsExactly("ab=1", "ab-x=1");
    }

    @Test
    void namesOutsideTheBmpSortByTheirUtf8Bytes() {
        String emoji = "\uD83D\uDE00"; // UTF-8 F0..., after U+FF61 (EF...), though UTF-16 D83D sorts first
        assertThat(DirectoryCases.byObjectName(List.of(emoji + "=1", "\uFF61=1"))).containsExactly("\uFF61=1",
                emoji + "=1");
    }
}
