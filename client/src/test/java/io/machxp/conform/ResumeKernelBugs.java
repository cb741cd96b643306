package io.machxp.conform;

import io.machxp.kernel.core.KernelPlants;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.Resume;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bugs of a kernel's side of a session resume (xp-spec 4.7) an outside implementer is likely to
 * make, planted on the wire between machxp's own kernel and the kit's pager (an {@link XpProxy}
 * plant each, one plant for all the streams of a run, so it sees a session move): what the pager
 * sees is what such a kernel would send. Part of {@link PlantedKernels#all()}; each names the case
 * that catches it (docs/testing.md, "The conformance kit's mutants").
 */
final class ResumeKernelBugs {
    private ResumeKernelBugs() {}

    static List<PlantedKernels.Bug> all() {
        return List.of(
                new PlantedKernels.Bug("counts one pager message too many in its resume", "^4\\.7-resume-hello$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return withResume(m, r -> r.setReceived(r.getReceived() + 1));
                    }
                }),
                new PlantedKernels.Bug("sends again every message of the session after a resume (received ignored)",
                        "^4\\.7-resume-resends$", KernelPlants.NONE, ResendsFromStart::new),
                new PlantedKernels.Bug("sends nothing again after a resume", "^4\\.7-resume-resends$",
                        KernelPlants.NONE, ResendsNothing::new),
                new PlantedKernels.Bug("repeats its first resume attempt", "^4\\.7-resume-attempt-grows$",
                        KernelPlants.NONE, () -> new XpProxy.Plant() {
                    @Override
                    public KernelToPager up(XpProxy.Link link, KernelToPager m) {
                        return withResume(m, r -> r.setAttempt(1));
                    }
                }),
                new PlantedKernels.Bug("resumes a session again after its resume was refused (ESTALE)",
                        "^4\\.7-resume-refused$", KernelPlants.NONE, () -> new AfterRefusal(false)),
                new PlantedKernels.Bug("sends a refused session's messages again on the next session",
                        "^4\\.7-resume-refused$", KernelPlants.NONE, () -> new AfterRefusal(true)));
    }

    /** {@code m} with its hello's resume changed by {@code change}; any other message unchanged. */
    private static KernelToPager withResume(KernelToPager m, java.util.function.Consumer<Resume.Builder> change) {
        if (!m.hasKernelHello() || !m.getKernelHello().hasResume()) {
            return m;
        }
        Resume.Builder r = m.getKernelHello().getResume().toBuilder();
        change.accept(r);
        return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().setResume(r)).build();
    }

    /** Whether {@code m} is the pager's welcome to a resume it took. */
    private static boolean resumedWelcome(PagerToKernel m) {
        return m.hasPagerWelcome() && m.getPagerWelcome().getResumed();
    }

    /** The kernel's messages of its session since its last hello without resume (a new session or a reclaim). */
    private static class SessionRecord implements XpProxy.Plant {
        final List<KernelToPager> sent = new ArrayList<>();

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasKernelHello()) {
                if (!m.getKernelHello().hasResume()) {
                    sent.clear();
                }
            } else {
                sent.add(m);
            }
            return m;
        }
    }

    /** Once a resume is taken, sends every message of the session again first, whatever the pager received. */
    private static final class ResendsFromStart extends SessionRecord {
        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (resumedWelcome(m)) {
                // before the kernel has the welcome: ahead of what it sends again itself
                List.copyOf(sent).forEach(link::toPager);
            }
            return m;
        }
    }

    /** Once a resume is taken, drops what the kernel sends again (any message it sent before on the session). */
    private static final class ResendsNothing extends SessionRecord {
        private final Map<XpProxy.Link, Boolean> resumed = new IdentityHashMap<>();

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (resumedWelcome(m)) {
                resumed.put(link, true);
            }
            return m;
        }

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (resumed.containsKey(link) && sent.contains(m)) {
                return null;
            }
            return super.up(link, m);
        }
    }

    /**
     * After a resume refused (its stream ended with ESTALE): either the next hello is made a resume
     * of the refused session again ({@code resend} false), or the refused session's last
     * lock_completed is sent again once the next session is welcomed ({@code resend} true).
     */
    private static final class AfterRefusal implements XpProxy.Plant {
        private final boolean resend;
        private final Map<XpProxy.Link, KernelHello> hellos = new IdentityHashMap<>();
        private KernelToPager lastCompleted;
        /** The resume the pager refused, or null. */
        private Resume refused;

        AfterRefusal(boolean resend) {
            this.resend = resend;
        }

        @Override
        public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
            if (m.hasMemoryObjectLockCompleted()) {
                lastCompleted = m;
            }
            if (!m.hasKernelHello()) {
                return m;
            }
            hellos.put(link, m.getKernelHello());
            if (refused != null && !resend && !m.getKernelHello().hasResume()) {
                Resume again = refused.toBuilder().setAttempt(refused.getAttempt() + 1).build();
                refused = null;
                return m.toBuilder().setKernelHello(m.getKernelHello().toBuilder().clearReclaim().setResume(again))
                        .build();
            }
            return m;
        }

        @Override
        public synchronized PagerToKernel down(XpProxy.Link link, PagerToKernel m) {
            if (resend && refused != null && m.hasPagerWelcome() && !m.getPagerWelcome().getResumed()
                    && lastCompleted != null) {
                refused = null;
                link.toKernel(m);
                link.toPager(lastCompleted);
                return null;
            }
            return m;
        }

        @Override
        public synchronized Throwable ended(XpProxy.Link link, Throwable t) {
            KernelHello h = hellos.get(link);
            if (h != null && h.hasResume()
                    && io.grpc.Status.fromThrowable(t).getCode() == io.grpc.Status.Code.FAILED_PRECONDITION) {
                refused = h.getResume();
            }
            return t;
        }
    }
}
