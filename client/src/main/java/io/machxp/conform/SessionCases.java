package io.machxp.conform;

import static io.machxp.conform.PagerCases.must;
import static io.machxp.conform.PagerCases.should;

import io.grpc.Status;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerWelcome;
import java.util.List;

/** Cases of spec sections 2 (sessions), 3 (errors) and 4.2 (keepalive). */
final class SessionCases {
    private SessionCases() {}

    static List<ConformCase<PagerProbe>> all() {
        return List.of(
                must("2.4-welcome", "kernel_hello is answered with a pager_welcome: kernel id 1..1023, page size a power "
                        + "of two of at least 64", p -> {
                    FakeKernel k = p.open("a");
                    PagerWelcome w = k.hello();
                    Check.that(w.getKernelId() >= 1 && w.getKernelId() <= 1023, "kernel_id " + w.getKernelId()
                            + " is not in 1..1023");
                    Check.that(Integer.bitCount(w.getPageSize()) == 1 && w.getPageSize() >= 64, "page_size "
                            + w.getPageSize() + " is not a power of two of at least 64");
                }),
                must("2.5-distinct-ids", "two live sessions get different kernel ids", p -> {
                    int a = p.open("a").hello().getKernelId();
                    int b = p.open("b").hello().getKernelId();
                    Check.that(a != b, "two live kernels were both given kernel_id " + a);
                }),
                must("2.2-duplicate-name", "a hello under the name of a live session ends the new stream: "
                        + "ALREADY_EXISTS / EEXIST", p -> {
                    FakeKernel a = p.open("a");
                    a.hello();
                    FakeKernel twin = p.open("twin");
                    twin.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                            .setKernelName(a.name()).setProtocolVersion(1)));
                    Check.endedWith(twin, Status.Code.ALREADY_EXISTS, "EEXIST", "a second kernel named " + a.name());
                    Check.that(!a.ended(), "the live session must go on when a second one under its name is refused");
                }),
                should("2.9-shared-tid-prefix", "a hello whose tid_prefix is the kernel id of another live "
                        + "session ends the stream: ALREADY_EXISTS / EEXIST", p -> {
                    FakeKernel a = p.open("a");
                    int id = a.hello().getKernelId(); // this pager is a's primary: a's TIDs carry this id
                    FakeKernel b = p.open("b");
                    b.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                            .setKernelName(b.name()).setProtocolVersion(1).setTidPrefix(id)));
                    Check.endedWith(b, Status.Code.ALREADY_EXISTS, "EEXIST", "a kernel whose primary gave it kernel id "
                            + id + ", the id this pager gave a live kernel (their TIDs would be the same)");
                    Check.that(!a.ended(), "the live session must go on when a kernel with its TID prefix is refused");
                }),
                should("2.5-prefix-passed-over", "a kernel stating as its tid_prefix the id the pager would give "
                        + "next does not get a new kernel of this primary refused: the pager passes over that id",
                        p -> {
                    FakeKernel a = p.open("a");
                    int id = a.hello().getKernelId();
                    int squatted = id + 2; // a pager giving ids in order gives the squatter id + 1, then id + 2
                    if (squatted > 1023) {
                        throw new Skipped("the pager gave kernel id " + id + ": no id two above it to state");
                    }
                    FakeKernel squatter = p.open("squat");
                    try {
                        squatter.hello(KernelHello.newBuilder().setKernelName(squatter.name()).setProtocolVersion(1)
                                .setTidPrefix(squatted).build());
                    } catch (Violation refused) {
                        if (squatter.ended()) { // the pager gave id + 2 already (ids out of order): 2.9 refuses
                            throw new Skipped("the pager refused a kernel stating TID prefix " + squatted + " (it gave "
                                    + "that id already?): no id known to be given next to state");
                        }
                        throw refused;
                    }
                    for (String name : new String[] {"v1", "v2"}) {
                        FakeKernel v = p.open(name);
                        int given = v.hello().getKernelId();
                        Check.that(given != squatted, "kernel " + name + ", whose primary this pager is, was given "
                                + "kernel id " + given + ", the TID prefix a live kernel stated");
                    }
                    Check.that(!squatter.ended(), "the kernel stating the prefix must keep its session");
                }),
                should("2.2-bad-name", "an empty kernel name ends the stream: INVALID_ARGUMENT / EINVAL", p -> {
                    FakeKernel k = p.open("a");
                    k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setProtocolVersion(1)));
                    Check.endedWith(k, Status.Code.INVALID_ARGUMENT, "EINVAL", "kernel_hello with an empty name");
                }),
                must("2.3-version-unsupported", "a hello in a version the pager does not speak ends the stream: "
                        + "UNIMPLEMENTED / EPROTONOSUPPORT", p -> {
                    FakeKernel k = p.open("a");
                    k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder()
                            .setKernelName(k.name()).setProtocolVersion(1_000_000)));
                    Check.endedWith(k, Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT", "kernel_hello version 1000000");
                }),
                must("2.3-version-zero", "a hello without a version (0) ends the stream: UNIMPLEMENTED / "
                        + "EPROTONOSUPPORT", p -> {
                    FakeKernel k = p.open("a");
                    k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name())));
                    Check.endedWith(k, Status.Code.UNIMPLEMENTED, "EPROTONOSUPPORT", "kernel_hello without a version");
                }),
                must("3.2-before-hello", "a message before kernel_hello ends the stream: FAILED_PRECONDITION / EPROTO",
                        p -> {
                    FakeKernel k = p.open("a");
                    k.send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(1)));
                    Check.endedWith(k, Status.Code.FAILED_PRECONDITION, "EPROTO", "kernel_keepalive before kernel_hello");
                }),
                must("3.2-second-hello", "a second kernel_hello on a session ends the stream: FAILED_PRECONDITION / "
                        + "EPROTO", p -> {
                    FakeKernel k = p.open("a");
                    k.hello();
                    k.send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(k.name())
                            .setProtocolVersion(1)));
                    Check.endedWith(k, Status.Code.FAILED_PRECONDITION, "EPROTO", "a second kernel_hello");
                }),
                must("3.2-no-routine", "a message with no routine ends the stream: INVALID_ARGUMENT / EBADMSG", p -> {
                    FakeKernel k = p.open("a");
                    k.hello();
                    k.send(KernelToPager.newBuilder());
                    Check.endedWith(k, Status.Code.INVALID_ARGUMENT, "EBADMSG", "a KernelToPager with no routine");
                }),
                must("4.2-keepalive", "kernel_keepalive is answered with pager_keepalive of the same sequence", p -> {
                    FakeKernel k = p.open("a");
                    k.hello();
                    k.sync();
                    k.sync();
                }),
                should("3.1-end-info", "a clean end is OK, or an error with ErrorInfo only to a kernel whose "
                        + "hello named end_info; to any other, UNAVAILABLE without ErrorInfo (the spec before the "
                        + "feature: a broken stream)", p -> {
                    // Only the clean end not stored in time (2.6) can be asked of a target here; the
                    // redirect (13.2) and a replica that stops leading (13.3) cannot be provoked by the
                    // kit (xp-spec Appendix C). A target that stores in time ends both OK: nothing checked.
                    boolean checked = false;
                    for (boolean named : new boolean[] {false, true}) {
                        FakeKernel k = named ? p.kernel("named", "end_info") : p.kernel("plain");
                        k.sync(); // its keepalive answered: nothing it sent is unstored
                        k.close();
                        Status s = k.awaitEnd("the pager's end of a cleanly ended stream (spec 2.6)");
                        if (s.isOk()) {
                            continue;
                        }
                        checked = true;
                        com.google.rpc.ErrorInfo info = k.errorInfo();
                        Check.that(named || info == null && s.getCode() == Status.Code.UNAVAILABLE, "the pager ended the "
                                + "cleanly closed stream of a kernel that did not name end_info with " + FakeKernel
                                .describe(s) + ": to such a kernel a clean end not stored in time is UNAVAILABLE without "
                                + "ErrorInfo (spec 3.1; a kernel written before the feature takes ErrorInfo for the "
                                + "pager's refusal)");
                        Check.that(!named || info != null, "the pager ended the cleanly closed stream of a kernel that "
                                + "named end_info with " + FakeKernel.describe(s) + ", without ErrorInfo (spec 3.1)");
                    }
                    if (!checked) {
                        throw new Skipped("the target ended both cleanly closed streams OK (their writes stored in "
                                + "time), the only end that is no refusal the kit can provoke: nothing to check (a "
                                + "redirect's or a deposed leader's end is not checked by the kit, Appendix C)");
                    }
                }),
                must("3.4-dropped-keep-stream", "messages that break a rule are dropped (a dirty return from a "
                        + "kernel that does not hold the page is not taken); the stream stays open", p -> {
                    FakeKernel k = p.kernel("a");
                    long page = p.freshPage();
                    Check.Page before = p.read(p.kernel("b"), page, "B reads the page A will return without holding it");
                    byte[] forged = new byte[p.pageSize()];
                    java.util.Arrays.fill(forged, (byte) 0x77); // not zeros, nor (surely) the page's data
                    forged[0] = (byte) ~before.data()[0];
                    k.send(Messages.lockCompleted(PagerProbe.OBJECT_ID, page, p.pageSize()));
                    k.send(Messages.released(PagerProbe.OBJECT_ID, page, 12345, false));
                    k.send(Messages.dirtyReturn(PagerProbe.OBJECT_ID, page, forged, before.version() + 1, false));
                    k.send(Messages.lockFutex(PagerProbe.OBJECT_ID, 2, false, 0)); // unaligned
                    // (an init of an id in use is no longer among them: it is answered, spec 5.1)
                    k.expectNone("nothing answers dropped messages (spec 3.4)", m -> true);
                    Check.that(!k.ended(), "the stream ended after dropped messages (spec 3.4)");
                    Check.Page after = p.read(p.kernel("c"), page, "C reads the page A returned without holding it");
                    Check.that(java.util.Arrays.equals(after.data(), before.data()) && after.version() == before.version(),
                            "a dirty data_return from a kernel that does not hold the page must be dropped, not taken "
                                    + "(spec 3.4, 6.5): C got version " + after.version() + (java.util.Arrays.equals(
                                    after.data(), forged) ? " with the returned data" : "") + ", the pager's copy was "
                                    + "version " + before.version());
                }));
    }
}
