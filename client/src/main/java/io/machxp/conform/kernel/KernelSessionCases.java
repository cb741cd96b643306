package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.must;
import static io.machxp.conform.kernel.KernelCases.should;
import static io.machxp.conform.kernel.KernelCases.that;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import java.util.List;

/** Kernel cases of spec sections 2 (hello, version) and 4.2 (keepalive). */
final class KernelSessionCases {
    private KernelSessionCases() {}

    static List<io.machxp.conform.ConformCase<KernelProbe>> all() {
        return List.of(
                must("2.1-hello-first", "the first message of a session is kernel_hello", p -> {
                    KernelToPager first = p.link().first();
                    that(first != null && first.hasKernelHello(), "the session's first message is "
                            + (first == null ? "missing" : KernelMessages.describe(first)) + ", not kernel_hello");
                }),
                must("2.2-hello-name", "kernel_hello names the kernel: 1 to 64 printable ASCII characters, no space",
                        p -> {
                    String name = p.link().hello().getKernelName();
                    that(!name.isEmpty() && name.length() <= 64 && name.chars().allMatch(c -> c > 0x20 && c < 0x7f),
                            "kernel_name '" + name + "' is not 1 to 64 printable ASCII characters without space");
                }),
                must("2.3-version", "kernel_hello names protocol version 1 (the version of this spec)", p -> {
                    KernelHello h = p.link().hello();
                    that(h.getProtocolVersion() == 1, "kernel_hello names protocol_version " + h.getProtocolVersion()
                            + "; this spec is version 1 (0 means unset)");
                }),
                should("4.2-keepalive-period", "with a lease L, kernel_keepalive comes every L/4 or so, its sequence "
                        + "growing by one", p -> {
                    KernelLink link = p.link();
                    int before = link.keepalives().size();
                    long lease = p.leaseMillis();
                    that(lease > 0, "the kit gives a lease");
                    link.awaitCondition("two kernel_keepalive within one lease (" + lease + " ms)",
                            () -> link.keepalives().size() >= before + 2,
                            Math.min(p.deadline(), System.nanoTime() + lease * 1_000_000));
                    List<long[]> all = link.keepalives();
                    for (int i = Math.max(1, before); i < all.size(); i++) {
                        that(all.get(i)[0] == all.get(i - 1)[0] + 1, "keepalive sequence " + all.get(i)[0]
                                + " follows " + all.get(i - 1)[0] + ": it must grow by one (spec 4.2)");
                    }
                }).waitingLeases());
    }
}
