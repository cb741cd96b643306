package io.machxp.pager.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.PagerDirectoryView;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * The stated pager directory views the pager keeps (xp-spec 2.8, xpreview-review HIGH-1): equal
 * views kept once, counted once against the bound, gone with their last session; where a view
 * sends an object is what the assignment list says, matched by the whole object name.
 */
class StatedViewsTest {
    private static PagerDirectoryView view(int count, int index, String... assignments) {
        return PagerDirectoryView.newBuilder().setPagerCount(count).setPagerIndex(index)
                .addAllAssignments(List.of(assignments)).build();
    }

    private static KernelSession session(long id, String name) {
        KernelSession s = new KernelSession(id);
        s.kernelName = name;
        return s;
    }

    @Test
    void equalViewsAreKeptOnceAndGoWithTheirLastSession() {
        StatedViews views = new StatedViews(List.of("obj", "home"), new LongAdder());
        KernelSession a = session(1, "a");
        KernelSession b = session(2, "b");
        views.state(a, views.intern(view(2, 0, "obj=1")));
        long one = views.bytes();
        views.state(b, views.intern(view(2, 0, "obj=1"))); // another message, the same view
        assertThat(b.directory).isSameAs(a.directory);
        assertThat(views.bytes()).isEqualTo(one).isEqualTo(view(2, 0, "obj=1").getSerializedSize());
        assertThat(views.sentElsewhere("obj")).isTrue();
        views.left(a);
        assertThat(views.bytes()).isEqualTo(one);
        assertThat(views.sentElsewhere("obj")).isTrue();
        views.left(b);
        assertThat(views.bytes()).isZero();
        assertThat(views.views()).isEmpty();
        assertThat(views.sentElsewhere("obj")).isFalse();
        views.left(b); // twice: nothing more
        assertThat(views.bytes()).isZero();
    }

    @Test
    void anotherDistinctViewPastTheBoundIsRefusedAnEqualOneIsNot() {
        long bound = view(2, 0, "obj=1").getSerializedSize() + 4;
        StatedViews views = new StatedViews(List.of("obj"), new LongAdder(), bound);
        views.state(session(1, "a"), views.intern(view(2, 0, "obj=1")));
        assertThat(views.refusal(views.intern(view(2, 0, "obj=1")), "b", "p")).isNull();
        assertThat(views.refusal(views.intern(view(2, 0, "obj=0")), "c", "p"))
                .contains("pager p keeps 1 distinct pager directories", "kernel 'c' stated another",
                        "connect again once");
    }

    private static KernelSession session(long id, String name, String peer) {
        KernelSession s = session(id, name);
        s.peer = peer;
        return s;
    }

    /**
     * rv58-review MED-2, the rule ({@link ViewShares}): a peer states views within its share (or
     * one, whatever its size), and views no peer states yet while the peers' pool has room; a view it holds already costs nothing; sessions without a peer have the reserve; what
     * a peer holds goes with its sessions, and with a resume to another peer.
     */
    @Test
    void thePeersShareTheViewsBytes() {
        // views of 102 bytes; bound 1,600: a pool of 1,400, a share of 175 (one view; a peer's first may be larger)
        PagerDirectoryView[] v = new PagerDirectoryView[20];
        for (int i = 0; i < v.length; i++) {
            v[i] = view(2, 0, "o" + (char) ('a' + i) + "=1", "x".repeat(90) + "=1");
        }
        assertThat(v[0].getSerializedSize()).isEqualTo(102);
        StatedViews views = new StatedViews(List.of("obj"), new LongAdder(), 1600);
        KernelSession a1 = session(1, "a1", "A");
        assertThat(views.refusal(views.intern(v[0]), "a1", "p", "A")).isNull();
        views.state(a1, views.intern(v[0]));
        assertThat(views.bytesOf("A")).isEqualTo(102);
        assertThat(views.refusal(views.intern(v[1]), "a2", "p", "A")).contains("the kernels of peer A",
                "state 1 distinct pager directories at pager p, 102 bytes, and another of 102 bytes would take "
                        + "them past the peer's share (175 bytes, an eighth of the 1400 bytes",
                "kernel 'a2' stated it");
        assertThat(views.refusal(views.intern(v[0]), "a4", "p", "A")).as("held already").isNull();
        KernelSession a4 = session(4, "a4", "A");
        views.state(a4, views.intern(v[0]));
        assertThat(views.bytesOf("A")).as("a view counts once to its peer").isEqualTo(102);
        // a view already in the pool costs a peer its share all the same (it holds it then)
        KernelSession b0 = session(3, "b0", "B");
        views.state(b0, views.intern(v[1]));
        assertThat(views.refusal(views.intern(v[1]), "a3", "p", "A")).contains("kernel 'a3' stated it");
        views.left(b0);
        // another peer's views are its own; a view A states counts to B too once B states it
        KernelSession b1 = session(5, "b1", "B");
        views.state(b1, views.intern(v[0]));
        assertThat(views.bytesOf("B")).isEqualTo(102);
        assertThat(views.peersBytes()).as("in the pool once").isEqualTo(102);
        // fill the pool: peers C.. with a view each
        int next = 1;
        for (char p = 'C'; views.peersBytes() + 102 <= 1400; p++) {
            views.state(session(10 + next, "k" + next, "" + p), views.intern(v[next++]));
        }
        assertThat(views.peersBytes()).isEqualTo(1326);
        assertThat(views.refusal(views.intern(v[next]), "late", "p", "Z")).contains("peers state distinct pager "
                + "directories of 1326 bytes, and 74 bytes of the 1400 it keeps for them are free (peer Z holds 0 of "
                + "them, 0 bytes)", "kernel 'late' stated another, of 102 bytes", "connect again once");
        assertThat(views.refusal(views.intern(v[0]), "late", "p", "Z")).as("a view in the pool costs it nothing")
                .isNull();
        assertThat(views.refusal(views.intern(v[next]), "local", "p", null)).as("the reserve").isNull();
        views.state(session(99, "local", null), views.intern(v[next]));
        assertThat(views.peersBytes()).isEqualTo(1326);
        // A's views go with its last session; a resume of b1 on a stream of peer Y moves v[0] to Y
        views.left(a1);
        assertThat(views.bytesOf("A")).isEqualTo(102);
        views.left(session(4, "a4", "A")); // not this object: nothing
        assertThat(views.bytesOf("A")).isEqualTo(102);
        views.left(a4);
        assertThat(views.bytesOf("A")).isZero();
        views.moved(b1, "Y");
        assertThat(views.bytesOf("B")).isZero();
        assertThat(views.bytesOf("Y")).isEqualTo(102);
        assertThat(b1.peer).isEqualTo("Y");
    }

    @Test
    void anAssignmentNamesItsWholeObject() {
        StatedView v = new StatedView(view(4, 1, "a=b=2", "a=b2=1", "ab=0", "z=1"));
        assertThat(v.invalid).isNull();
        assertThat(v.pagerFor("a=b")).isEqualTo(2);
        assertThat(v.sendsHere("a=b2")).isTrue();
        assertThat(v.sendsHere("ab")).isFalse();
        assertThat(v.sendsHere("z")).isTrue();
        // a name no assignment has: the CRC-32 rule (as DirectoryInitRefusedTest: "home" mod 2 is 0)
        StatedView two = new StatedView(view(2, 0, "obj=1"));
        assertThat(two.sendsHere("home")).isTrue();
        assertThat(two.sendsHere("obj")).isFalse();
        assertThat(two.sendsHere("a")).isEqualTo(two.pagerFor("a") == 0);
        assertThat(new StatedView(view(1, 0)).sendsHere("anything")).isTrue();
    }

    /**
     * xpreview-review LOW-3: a pager index with a leading zero ("shared=00") was judged "elsewhere"
     * by {@code sendsHere} (the text "00" is not "0") but pager 0 by {@code pagerFor} and by machxp's
     * kernel, so the view of a kernel using "shared" here escaped the two-copies check. It is now not
     * valid (the hello ends EINVAL, below), and a view an older pager took with one (a snapshot's) is
     * read as the number it writes, by both.
     */
    @Test
    void aPagerIndexWithALeadingZeroIsNotValidAndReadAsItsNumber() {
        StatedView v = new StatedView(view(2, 0, "shared=00", "t=01"));
        assertThat(v.invalid).contains("'shared=00'", "leading zero", "'shared=0'");
        assertThat(v.pagerFor("shared")).isZero();
        assertThat(v.sendsHere("shared")).as("the number its assignment writes, as pagerFor reads it").isTrue();
        assertThat(v.pagerFor("t")).isEqualTo(1);
        assertThat(v.sendsHere("t")).isFalse();
        assertThat(new StatedView(view(2, 1, "t=01")).sendsHere("t")).isTrue();
        assertThat(new StatedView(view(2, 0, "shared=0")).invalid).isNull();
        assertThat(new StatedView(view(11, 0, "shared=10")).invalid).isNull();
        assertThat(new StatedView(view(2, 0, "shared=0x")).invalid).contains("not \"object=pager\"");
    }

    /** The checks of a view, each with its sentence, whatever the order of its assignments. */
    @Test
    void aViewIsCheckedInOnePassInOrderOrNot() {
        assertThat(new StatedView(view(0, 0)).invalid).contains("pager count of 0");
        assertThat(new StatedView(view(2, 2)).invalid).contains("index 2 of a list of 2");
        assertThat(new StatedView(view(2, 0, "b=1", "a=1", "b=0")).invalid).contains("object 'b' assigned twice");
        assertThat(new StatedView(view(2, 0, "a=1", "b=1", "b=0")).invalid).contains("object 'b' assigned twice");
        assertThat(new StatedView(view(2, 0, "=1")).invalid).contains("'=1'");
        assertThat(new StatedView(view(2, 0, "a=2")).invalid).contains("'a=2'", "below 2");
        // out of the canonical order: taken, and looked up as well as an ordered one
        StatedView unordered = new StatedView(view(3, 0, "c=1", "a=2", "b=0", "\uD83D\uDE00=1", "\uFFFD=2"));
        StatedView ordered = new StatedView(view(3, 0, "a=2", "b=0", "c=1", "\uFFFD=2", "\uD83D\uDE00=1"));
        assertThat(unordered.invalid).isNull();
        assertThat(ordered.invalid).isNull();
        for (String o : List.of("a", "b", "c", "d", "\uD83D\uDE00", "\uFFFD")) {
            assertThat(unordered.pagerFor(o)).as(o).isEqualTo(ordered.pagerFor(o));
        }
        assertThat(ordered.pagerFor("\uD83D\uDE00")).isEqualTo(1);
        assertThat(ordered.pagerFor("\uFFFD")).isEqualTo(2);
    }

    /** At a core: a hello whose view has a leading zero ends EINVAL with the sentence, and is never kept. */
    @Test
    void aHelloWithALeadingZeroIsRefused() {
        List<String> ended = new java.util.ArrayList<>();
        PagerCore pager = core(ended);
        pager.sessionOpened(1);
        pager.onXp(1, hello("k1", view(2, 0, "obj=00")));
        assertThat(ended).singleElement().satisfies(e -> assertThat(e).startsWith("1 EINVAL")
                .contains("kernel 'k1' stated a pager directory that is not valid", "'obj=00'", "leading zero",
                        "'obj=0'"));
        assertThat(pager.statedViewBytes()).isZero();
    }

    private static PagerCore core(List<String> ended) {
        return new PagerCore("p", 4096, new io.machxp.pager.object.ObjectCatalog(
                java.util.Map.of("obj", 4096L), 4096), new PagerEnv() {
                    @Override
                    public void send(long sessionId, io.machxp.proto.xp.PagerToKernel message) {
                    }

                    @Override
                    public void endSession(long sessionId, io.machxp.proto.task.Errno errno, String message) {
                        ended.add(sessionId + " " + errno + " " + message);
                    }

                    @Override
                    public void endSession(long sessionId, XpProtocolError error, String message) {
                        ended.add(sessionId + " " + error + " " + message);
                    }

                    @Override
                    public long nanoTime() {
                        return 1;
                    }
                }, new PagerStats());
    }

    /** At a core: the views go with the sessions that stated them, a refused hello's never kept. */
    @Test
    void aCoresViewsGoWithItsSessions() {
        PagerCore pager = new PagerCore("p", 4096, new io.machxp.pager.object.ObjectCatalog(
                java.util.Map.of("obj", 4096L), 4096), new PagerEnv() {
                    @Override
                    public void send(long sessionId, io.machxp.proto.xp.PagerToKernel message) {
                    }

                    @Override
                    public void endSession(long sessionId, io.machxp.proto.task.Errno errno, String message) {
                    }

                    @Override
                    public void endSession(long sessionId, XpProtocolError error, String message) {
                    }

                    @Override
                    public long nanoTime() {
                        return 1;
                    }
                }, new PagerStats());
        PagerDirectoryView here = view(2, 0, "obj=0");
        for (long s = 1; s <= 3; s++) {
            pager.sessionOpened(s);
            pager.onXp(s, hello("k" + s, s == 3 ? view(2, 0, "obj=1") : here));
        }
        pager.onXp(1, io.machxp.proto.xp.KernelToPager.newBuilder().setMemoryObjectInit(
                io.machxp.proto.xp.MemoryObjectInit.newBuilder().setObjectId(7).setName("obj").setPageSize(4096))
                .build()); // refused: k3 sends it elsewhere
        assertThat(pager.statedViewBytes()).isEqualTo(here.getSerializedSize() + view(2, 0, "obj=1").getSerializedSize());
        pager.sessionClosed(3);
        pager.onXp(1, io.machxp.proto.xp.KernelToPager.newBuilder().setMemoryObjectInit(
                io.machxp.proto.xp.MemoryObjectInit.newBuilder().setObjectId(7).setName("obj").setPageSize(4096))
                .build()); // taken now
        pager.sessionOpened(4); // another view, sending obj (used here by k1) elsewhere: refused, never kept
        pager.onXp(4, hello("k4", view(2, 0, "obj=1")));
        assertThat(pager.sessionCount()).isEqualTo(2);
        assertThat(pager.statedViewBytes()).isEqualTo(here.getSerializedSize());
        pager.sessionClosed(1);
        pager.sessionClosed(2);
        assertThat(pager.statedViewBytes()).isZero();
    }

    private static io.machxp.proto.xp.KernelToPager hello(String name, PagerDirectoryView view) {
        return io.machxp.proto.xp.KernelToPager.newBuilder().setKernelHello(io.machxp.proto.xp.KernelHello
                .newBuilder().setKernelName(name).setProtocolVersion(1).setDirectory(view)).build();
    }
}
