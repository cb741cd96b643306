package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A view's assignments are sorted by object name in UTF-8 byte order (xp-spec 2.8, dir2-review L4),
 * not by Java's UTF-16 code units, which put a name outside the Basic Multilingual Plane before
 * U+E000..U+FFFF.
 */
class PagerDirectoryViewOrderTest {
    @Test
    void assignmentsAreInUtf8ByteOrder() {
        String fullwidth = "\uFF21"; // U+FF21: UTF-8 EF BC A1
        String emoji = "\uD83D\uDE00"; // U+1F600: UTF-8 F0 9F 98 80; its UTF-16 D83D is below FF21
        Map<String, Integer> assigned = new LinkedHashMap<>();
        assigned.put(emoji, PagerDirectory.ruleFor(emoji, 3) == 1 ? 2 : 1);
        assigned.put(fullwidth, PagerDirectory.ruleFor(fullwidth, 3) == 1 ? 2 : 1);
        assigned.put("a", PagerDirectory.ruleFor("a", 3) == 1 ? 2 : 1);
        var view = PagerDirectory.of(3, assigned).viewFor(0);
        assertThat(view.getAssignmentsList()).extracting(a -> a.substring(0, a.lastIndexOf('=')))
                .containsExactly("a", fullwidth, emoji);
    }
}
