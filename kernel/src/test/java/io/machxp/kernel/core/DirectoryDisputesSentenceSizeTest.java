package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.text.ClippedText;
import io.machxp.proto.xp.ObjectDispute;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A vm_map refused for a dispute fits a gRPC status whatever the pager sent (dir3-review LOW-1):
 * the kernel keeps a pager's name to 64 characters and a reason to 1,024 UTF-8 bytes (xp-spec
 * 12.43), cut between code points. Before, both were copied whole: a pager name of 3,000
 * characters made an 8,250-byte sentence, past grpc-java's 8 KiB of metadata.
 */
class DirectoryDisputesSentenceSizeTest {
    private static final String OBJECT = "é".repeat(255);

    private static String sentence(String pagerName, String reason) {
        DirectoryDisputes d = new DirectoryDisputes("k".repeat(64));
        d.welcomed(0, pagerName, List.of(ObjectDispute.newBuilder().setObject(OBJECT).setReason(reason).build()),
                true, o -> false);
        return d.refusal(OBJECT, false).message();
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1)))
                    || Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aLongPagerNameOrReasonIsClippedSoTheSentenceFitsAStatus() {
        for (String[] in : new String[][] {{"p".repeat(3000), "r".repeat(1024)}, {"p".repeat(64), "r".repeat(20000)},
                {"\uD83D\uDE00".repeat(3000), "\uD83D\uDE00".repeat(20000)}}) {
            String s = sentence(in[0], in[1]);
            assertThat(s.getBytes(StandardCharsets.UTF_8).length).isLessThan(4096);
            assertThat(hasLoneSurrogate(s)).as("no surrogate pair split").isFalse();
        }
    }

    @Test
    void anInSpecNameAndReasonAreKeptWhole() {
        String reason = "r".repeat(1024);
        assertThat(sentence("p".repeat(64), reason)).contains("pager '" + "p".repeat(64) + "' (pager 0")
                .contains(reason);
    }

    @Test
    void aClippedNameEndsBetweenCodePoints() {
        String name = "a" + "\uD83D\uDE00".repeat(100);
        String clipped = ClippedText.chars(name, 64);
        assertThat(clipped).isEqualTo("a" + "\uD83D\uDE00".repeat(63) + "...");
        String reason = ClippedText.utf8("\uD83D\uDE00".repeat(300), 1024);
        assertThat(reason.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1024);
        assertThat(hasLoneSurrogate(reason)).isFalse();
    }
}
