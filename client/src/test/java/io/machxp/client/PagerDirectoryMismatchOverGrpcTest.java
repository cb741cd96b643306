package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Review M3 (docs/multi-pager.md, xp-spec 2.8): two pagers that both serve "s" (as every
 * `machxp pager` without --object serves "shared"), and kernels given different pager directories.
 * Before, each kernel silently used its own copy of "s"; now a pager at which one kernel uses "s"
 * lists it as in dispute in the welcome of a kernel whose directory sends it elsewhere, whose
 * vm_map of "s" then fails with EINVAL naming both (xp-spec 2.8; until xpdir-review H1 the hello
 * was refused, and the kernel's start failed). And M5: a
 * pager listed twice in one kernel's list is named as such.
 */
class PagerDirectoryMismatchOverGrpcTest {
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    private Pager pager(String name) throws Exception {
        Pager p = Pager.start(new PagerConfig(name, "127.0.0.1", 0, PagerConfig.DEFAULT_PAGE_SIZE,
                Map.of("s", 64 * 1024L, "h", 64 * 1024L))); // "h": an object a kernel uses at a pager of its own
        started.add(p);
        return p;
    }

    private Kernel kernel(String name, String pagers, PagerDirectory directory) throws Exception {
        Kernel k = Kernel.start(KernelConfig.loopback(name, pagers).withCore(CoreOptions.DEFAULT.withPagers(directory)));
        started.add(k);
        return k;
    }

    @Test
    void aKernelGivenAnotherDirectoryIsRefusedNamingBoth() throws Exception {
        String pagers = pager("p0").target() + "," + pager("p1").target();
        int byRule = PagerDirectory.ruleFor("s", 2);
        Kernel x = kernel("X", pagers, PagerDirectory.of(2, Map.of()));
        kernel("Z", pagers, PagerDirectory.of(2, Map.of("s", byRule))); // what the rule does anyway: the same directory
        x.taskCreate("app").vmMap("s"); // X uses "s" at pager byRule: a view that sends it elsewhere is refused there

        // Y starts (xpdir-review H1: a refused hello failed its start), and "s" alone is refused to it
        var ty = kernel("Y", pagers, PagerDirectory.of(2, Map.of("s", 1 - byRule))).taskCreate("y");
        assertThatThrownBy(() -> ty.vmMap("s"))
                .hasMessageContaining("EINVAL")
                .hasMessageContaining("kernel 'Y' was given another pager directory than kernel")
                .hasMessageContaining("'Y' to pager " + (1 - byRule) + " of its list of 2")
                .hasMessageContaining("sends it to pager " + byRule + " of its list of 2");
    }

    /**
     * xpfix-review 2 and xp-review 5: a kernel with another directory connected first, using nothing
     * in dispute, is no reference. The correct kernel is welcomed; its vm_map of the object the odd
     * kernel's directory sends elsewhere fails (EINVAL, naming the odd kernel) while the odd one is
     * connected, and nobody's session ends; once the odd kernel is gone, the object maps.
     */
    @Test
    void aKernelWithAnotherDirectoryConnectedFirstEndsNobodyAndBlocksOnlyTheObjectInDispute() throws Exception {
        Pager[] p = {pager("p0"), pager("p1")};
        String pagers = p[0].target() + "," + p[1].target();
        int byRule = PagerDirectory.ruleFor("s", 2);
        Kernel odd = kernel("Y", pagers, PagerDirectory.of(2, Map.of("s", 1 - byRule, "h", byRule)));
        Kernel good = kernel("X", pagers, PagerDirectory.of(2, Map.of("h", byRule))); // welcomed: Y uses nothing in dispute
        odd.taskCreate("y").vmMap("h"); // Y uses pager byRule (a kernel that holds nothing there blocks no init)
        var task = good.taskCreate("app");
        assertThatThrownBy(() -> task.vmMap("s"))
                .isInstanceOfSatisfying(io.machxp.kernel.core.KernelException.class,
                        e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.EINVAL))
                .hasMessageContaining("refuses object 's' to kernel 'X'")
                .hasMessageContaining("kernel 'Y', connected to this pager, was given another pager directory");
        assertThat(p[byRule].kernels()).containsExactlyInAnyOrder("X", "Y");
        assertThat(p[1 - byRule].kernels()).containsExactlyInAnyOrder("X", "Y");
        started.remove(odd);
        odd.close();
        assertThat(task.vmMap("s")).as("maps once the kernel with the other directory is gone").isPositive();
    }

    /**
     * xpfix-review 2: correct kernels use "s" at its pager; a kernel given only the other pager's
     * address (one pager: "s" there) is welcomed there and its vm_map of "s" fails (EINVAL, naming a
     * correct kernel's directory). The correct kernels' sessions with that pager go on, and "s" stays
     * theirs. (The reverted fix ended every correct kernel's session there at that init.)
     */
    @Test
    void aMisconfiguredKernelsMapIsRefusedAndTheCorrectKernelsGoOn() throws Exception {
        Pager[] p = {pager("p0"), pager("p1")};
        String pagers = p[0].target() + "," + p[1].target();
        int byRule = PagerDirectory.ruleFor("s", 2);
        Kernel x = kernel("X", pagers, PagerDirectory.of(2, Map.of("h", 1 - byRule)));
        Kernel z = kernel("Z", pagers, PagerDirectory.of(2, Map.of("h", 1 - byRule)));
        var tx = x.taskCreate("app");
        tx.vmMap("h"); // X uses the other pager too (only a kernel that holds something there counts)
        long base = tx.vmMap("s");
        tx.vmFetchAdd64(base + 8, 42);
        Kernel wrong = kernel("W", p[1 - byRule].target(), PagerDirectory.of(1, Map.of()));
        assertThatThrownBy(() -> wrong.taskCreate("w").vmMap("s"))
                .isInstanceOfSatisfying(io.machxp.kernel.core.KernelException.class,
                        e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.EINVAL))
                .hasMessageContaining("refuses object 's' to kernel 'W'")
                .hasMessageContaining("kernel 'X', connected to this pager, was given another pager directory");
        assertThat(p[1 - byRule].kernels()).containsExactlyInAnyOrder("X", "Z", "W");
        var tz = z.taskCreate("app");
        assertThat(tz.vmFetchAdd64(tz.vmMap("s") + 8, 0)).as("the correct kernels share one copy of 's'").isEqualTo(42);
    }

    /**
     * xpdir-review H1, the order of aMisconfiguredKernelsMapIsRefusedAndTheCorrectKernelsGoOn swapped:
     * the kernel given only the other pager's address (one pager: "s" there) starts first and maps
     * "s" there. Before, that pager refused the hello of every correct kernel (EINVAL) and their
     * start failed: every object of that pager was theirs no more. Now they start, use every object
     * of both pagers but "s", and their vm_map of "s" fails (EINVAL, naming the wrong kernel, both
     * directories and the object), so "s" is never served by two pagers; nobody is ended.
     */
    @Test
    void misconfiguredFirstUserLocksCorrectKernelsOutOfThePager() throws Exception {
        Pager[] p = {pager("p0"), pager("p1")};
        String pagers = p[0].target() + "," + p[1].target();
        int byRule = PagerDirectory.ruleFor("s", 2);
        Kernel wrong = kernel("W", p[1 - byRule].target(), PagerDirectory.of(1, Map.of()));
        var tw = wrong.taskCreate("w");
        tw.vmFetchAdd64(tw.vmMap("s") + 8, 7); // W uses "s" at the pager the cluster's directory does not send it to
        List<Kernel> correct = new ArrayList<>();
        for (String name : List.of("X", "Y", "Z")) {
            correct.add(kernel(name, pagers, PagerDirectory.of(2, Map.of("h", 1 - byRule)))); // starts
        }
        for (Kernel k : correct) {
            var t = k.taskCreate("app");
            assertThat(t.vmMap("h")).as("an undisputed object of the pager W uses").isPositive();
            assertThatThrownBy(() -> t.vmMap("s"))
                    .isInstanceOfSatisfying(io.machxp.kernel.core.KernelException.class,
                            e -> assertThat(e.errno()).isEqualTo(io.machxp.proto.task.Errno.EINVAL))
                    .hasMessageContaining("memory object 's' cannot be mapped")
                    .hasMessageContaining("than kernel 'W', which is connected to pager p" + (1 - byRule)
                            + " and uses it there")
                    .hasMessageContaining("'W' sends it to pager 0 of its list of 1")
                    .hasMessageContaining("to pager " + byRule + " of its list of 2");
        }
        assertThat(p[1 - byRule].kernels()).containsExactlyInAnyOrder("W", "X", "Y", "Z");
        assertThat(p[byRule].kernels()).containsExactlyInAnyOrder("X", "Y", "Z");
        assertThat(p[byRule].stats().received(io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_INIT))
                .as("'s' is not taken into use at its directory's pager while W uses it at the other").isZero();
        assertThat(tw.vmFetchAdd64(tw.vmMap("s") + 8, 0)).as("W keeps its use of 's'").isEqualTo(7);
    }

    @Test
    void aKernelListingThePagersInAnotherOrderIsRefused() throws Exception {
        Pager p0 = pager("p0");
        Pager p1 = pager("p1");
        kernel("X", p0.target() + "," + p1.target(), PagerDirectory.of(2, Map.of())).taskCreate("app").vmMap("s");
        var ty = kernel("Y", p1.target() + "," + p0.target(), PagerDirectory.of(2, Map.of())).taskCreate("y");
        assertThatThrownBy(() -> ty.vmMap("s"))
                .hasMessageContaining("EINVAL")
                .hasMessageContaining("where this pager is 1")
                .hasMessageContaining("where this pager is 0");
        assertThat(p0.target()).isNotEqualTo(p1.target());
    }

    /**
     * Review M5: one pager listed twice, under two addresses. Before, the second hello was refused
     * as another kernel of the same name ("give each kernel its own --name"); the list is the mistake.
     */
    @Test
    void aPagerListedTwiceUnderTwoAddressesIsNamedAsSuch() throws Exception {
        Pager p0 = pager("p0");
        String twice = p0.target() + ",localhost:" + p0.port();
        assertThatThrownBy(() -> kernel("A", twice, PagerDirectory.of(2, Map.of("s", 0))))
                .hasMessageContaining("pager p0 is listed twice in this kernel's --pager list")
                .hasMessageNotContaining("--name");
    }
}
