package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Kernels with different pager directories (xp-spec 2.8) at one pager: the kernel that would start
 * a second copy of an object is refused, at its memory_object_init, and no other kernel's session
 * is ever ended for it. Found by two reviews: the first view stated locked out every correct kernel
 * (xp-review 5), and then an init ended every kernel whose view disputed it (xpfix-review 2: one
 * misconfigured kernel's init ended every correctly configured one).
 */
class DirectoryInitRefusedTest {
    private static final long LEASE = 1_000_000_000L;
    /** Two pagers, this one 0, "obj" assigned to pager 1: a cluster whose "obj" lives elsewhere. */
    private static final PagerDirectoryView ELSEWHERE = PagerDirectoryView.newBuilder().setPagerCount(2)
            .setPagerIndex(0).addAssignments("obj=1").build();
    /** A single pager: every object here. */
    private static final PagerDirectoryView ONE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();

    /** Serves "obj" and "home"; every view here sends "home" to this pager (CRC-32 of "home" mod 2 is 0). */
    private final XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3), 0,
            java.util.Map.of("obj", XpKernels.SIZE, "home", XpKernels.SIZE));
    private static final int HOME = 9;

    private PagerToKernel hello(long session, String name, PagerDirectoryView view) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view)));
        return x.take(session).stream().findFirst().orElse(null);
    }

    /** A hello of a kernel that takes the objects in dispute in its welcome ("directory_disputes"). */
    private PagerToKernel helloTakingDisputes(long session, String name, PagerDirectoryView view) {
        x.pager.sessionOpened(session);
        x.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).setDirectory(view).addFeatures("directory_disputes")));
        return x.take(session).stream().findFirst().orElse(null);
    }

    private List<PagerToKernel> init(long session) {
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(XpKernels.OBJ).setName("obj").setPageSize(XpKernels.PAGE)));
        return x.take(session);
    }

    /** A kernel maps "home", which every directory here sends to this pager: it now uses this pager. */
    private void usesHome(long session) {
        x.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(HOME).setName("home").setPageSize(XpKernels.PAGE)));
        assertThat(x.take(session)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
    }

    /** The review's scenario (xpfix-review 2): correct kernels use "obj" at pager 1 and "home" here; one kernel was given only pager 0. */
    @Test
    void aMisconfiguredKernelsInitIsRefusedAndTheCorrectKernelsKeepTheirSessions() {
        for (long s = 1; s <= 3; s++) {
            assertThat(hello(s, "good" + s, ELSEWHERE).hasPagerWelcome()).as("good kernel %d", s).isTrue();
            usesHome(s);
        }
        assertThat(hello(4, "wrong", ONE).hasPagerWelcome()).as("no kernel uses 'obj' here yet").isTrue();

        List<PagerToKernel> answer = init(4);
        assertThat(answer).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY);
        assertThat(answer.get(0).getMemoryObjectDestroy().getReason())
                .contains("pager p refuses object 'obj' to kernel 'wrong'")
                .contains("kernel 'good1', connected to this pager, was given another pager directory")
                .contains("'wrong' sends it to pager 0 of its list of 1, where this pager is 0 (1 pager, no assignments")
                .contains("'good1' to pager 1 of its list of 2, where this pager is 0 (2 pagers, 1 assignment beyond")
                .contains("--pager list");
        assertThat(x.ended).as("no session ends: neither the correct kernels' nor the refused one's").isEmpty();
    }

    /** The mirror (xp-review 5): a kernel with another directory connected first locks nobody out of the pager. */
    @Test
    void aKernelWithAnotherDirectoryConnectedFirstIsNoReferenceAndEndsNobody() {
        assertThat(hello(1, "odd", ELSEWHERE).hasPagerWelcome()).isTrue();
        usesHome(1);
        assertThat(hello(2, "good", ONE).hasPagerWelcome()).as("welcomed: 'odd' uses nothing in dispute here").isTrue();
        // good's use of 'obj' would split it from odd's copy elsewhere: refused while odd uses this pager, naming it
        assertThat(init(2)).singleElement().satisfies(m -> assertThat(m.getMemoryObjectDestroy().getReason())
                .contains("kernel 'odd', connected to this pager"));
        assertThat(x.ended).isEmpty();
        x.pager.sessionClosed(1); // odd leaves
        x.advanceHeard(2 * LEASE, LEASE / 4, 2); // and its session is declared dead (good keeps its own)
        assertThat(init(2)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
    }

    /**
     * late5-review C1: the view of a kernel that holds nothing here still counts against an init.
     * Between c79bc0aa and this, it did not (xpdir-review M1: such a kernel blocked every object not
     * in use while connected): then a kernel with another directory that used the object at its
     * other pager, and nothing here, let this pager serve it too, and two copies ran unseen (every
     * pager of two saw only kernels holding nothing there). A split is a coherence failure; a
     * refused init is an availability one that names the kernel to restart: the refusal stays.
     */
    @Test
    void aViewOfAKernelThatHoldsNothingHereStillRefusesASplittingInit() {
        assertThat(hello(2, "odd", ELSEWHERE).hasPagerWelcome()).as("nobody uses obj here yet").isTrue();
        assertThat(hello(1, "good", ONE).hasPagerWelcome()).isTrue();
        List<PagerToKernel> answer = init(1);
        assertThat(answer).as("odd holds nothing here, but its directory sends obj to another pager")
                .extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY);
        assertThat(x.ended).isEmpty();
    }

    /**
     * A kernel that uses an object here keeps it: a hello whose view sends it elsewhere, from a
     * kernel that does not name "directory_disputes" (an older one), is refused, nobody else.
     */
    @Test
    void aHelloThatWouldSplitAnObjectInUseHereIsRefused() {
        assertThat(hello(1, "good", ONE).hasPagerWelcome()).isTrue();
        assertThat(init(1)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
        hello(2, "odd", ELSEWHERE);
        assertThat(x.ended.get(2L)).startsWith("EINVAL")
                .contains("kernel 'odd' was given another pager directory than kernel 'good'")
                .contains("uses object 'obj' there");
        assertThat(x.ended).containsOnlyKeys(2L);
    }

    /**
     * xpdir-review H1: a kernel given only this pager (every object here) starts first and maps
     * "obj", which the cluster's directory sends to pager 1. Before, every correct kernel's hello
     * was refused (EINVAL: their start failed, locked out of every object of this pager). Now each
     * is welcomed, its welcome lists "obj" as in dispute naming both kernels, and it uses "home"
     * here; "obj" stays served here for the one kernel that uses it, and nobody is ended.
     */
    @Test
    void misconfiguredFirstUserLocksCorrectKernelsOutOfThePager() {
        assertThat(helloTakingDisputes(1, "wrong", ONE).getPagerWelcome().getDisputesList()).isEmpty();
        assertThat(init(1)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_READY);
        for (long s = 2; s <= 4; s++) {
            String name = "good" + s;
            PagerToKernel welcome = helloTakingDisputes(s, name, ELSEWHERE);
            assertThat(welcome.hasPagerWelcome()).as("good kernel %d is welcomed", s).isTrue();
            assertThat(welcome.getPagerWelcome().getDisputesList()).singleElement().satisfies(d -> {
                assertThat(d.getObject()).isEqualTo("obj");
                assertThat(d.getReason()).contains("kernel '" + name + "' was given another pager directory than kernel 'wrong'")
                        .contains("uses it there")
                        .contains("'wrong' sends it to pager 0 of its list of 1").contains("to pager 1 of its list of 2");
            });
            usesHome(s); // every undisputed object of this pager is theirs
        }
        assertThat(x.ended).as("nobody is ended, neither the correct kernels nor the wrong one").isEmpty();
        // "obj" is not served twice: while the correct kernels are connected, no other kernel starts it here
        assertThat(hello(5, "other", ONE).hasPagerWelcome()).isTrue();
        assertThat(init(5)).extracting(PagerToKernel::getRoutineCase)
                .containsExactly(PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY);
    }

    /** A kernel that does not name "directory_disputes" is refused at its hello, as before (it would not know to leave the object alone). */
    @Test
    void aKernelThatDoesNotTakeDisputesIsStillRefusedAtItsHello() {
        assertThat(helloTakingDisputes(1, "wrong", ONE).hasPagerWelcome()).isTrue();
        init(1);
        assertThat(hello(2, "good", ELSEWHERE)).isNull();
        assertThat(x.ended.get(2L)).startsWith("EINVAL").contains("than kernel 'wrong'");
    }
}
