package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.object.MemoryObject;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerDirectoryView;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How long a listed dispute's reason gets at worst (xp-spec 2.8, 12.43; dir3-review LOW-2):
 * kernel names of 64 characters, placements in lists of 1,024 pagers, and a pager name of 64 code
 * points or more. 911 bytes with a name of characters outside the BMP, 719 with an ASCII one (the
 * figures the docs give), both under 12.43's 1,024; the name is cut between code points.
 */
class DirectoryReasonBytesTest {
    private static String worstReason(String pager) {
        String object = "obj";
        String user = "u".repeat(64);
        KernelSession other = new KernelSession(1);
        other.kernelName = user;
        other.kernelId = 1;
        StatedViews views = new StatedViews(List.of(object), new java.util.concurrent.atomic.LongAdder());
        views.state(other, views.intern(PagerDirectoryView.newBuilder().setPagerCount(1024).setPagerIndex(1023)
                .addAssignments(object + "=1023").build()));
        other.objects.put(7, new MemoryObject(object, 4096, new MemoryPageStore()));
        StatedView view = views.intern(PagerDirectoryView.newBuilder().setPagerCount(1024).setPagerIndex(1023)
                .addAssignments(object + "=1022").build());
        List<ObjectDispute> d = DirectoryViews.disputes(views, "k".repeat(64), view, pager);
        assertThat(d).hasSize(1);
        return d.get(0).getReason();
    }

    private static int bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Test
    void aReasonIsAtMost911BytesAnd719WithAnAsciiPagerName() {
        assertThat(bytes(worstReason("p".repeat(100)))).isEqualTo(719);
        assertThat(bytes(worstReason("\uD83D\uDE00".repeat(100)))).isEqualTo(911).isLessThanOrEqualTo(1024);
    }

    @Test
    void aLongPagerNameIsCutBetweenCodePoints() {
        String shown = DirectoryViews.shownPager("a" + "\uD83D\uDE00".repeat(100));
        assertThat(shown).isEqualTo("a" + "\uD83D\uDE00".repeat(63) + "...");
        assertThat(DirectoryViews.shownPager("p".repeat(64))).isEqualTo("p".repeat(64));
    }
}
