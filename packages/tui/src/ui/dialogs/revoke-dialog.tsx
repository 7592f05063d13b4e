// Revoking one key or several: first look each one up again (another
// process may have changed it since the list was drawn), then say how many
// are active and will be revoked and how many will be skipped and why, and
// revoke only after `y`. The engine re-checks every key when it revokes.

import { type ErrorCode, type KeyService, type KeyView, refusalCode, refusalText, type RevokeReport, safeText } from '@keyward/core';
import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { useAppActions } from '../app-context.js';
import { Confirm } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { plural } from '../text/format.js';

export interface RevokePlan {
  active: KeyView[];
  skipped: { id: string; description: string; why: string }[];
}

export async function planRevoke(service: KeyService, ids: readonly string[]): Promise<RevokePlan> {
  const plan: RevokePlan = { active: [], skipped: [] };
  const found = await Promise.all(ids.map((id) => service.getKey(id).then((k) => ({ id, k }), (e: unknown) => ({ id, e }))));
  for (const f of found) {
    if ('k' in f) {
      // The view says whether this viewer may revoke it now (core's rule); when not, its status says why.
      if (f.k.actions.revoke) plan.active.push(f.k);
      else plan.skipped.push({ id: f.id, description: f.k.description, why: f.k.status });
    } else {
      plan.skipped.push({ id: f.id, description: '', why: refusalCode(f.e) === 'KEY_NOT_FOUND' ? 'deleted' : refusalText(f.e) });
    }
  }
  return plan;
}

/** "2 expired, 1 deleted" */
function reasons(skipped: { why: string }[]): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.why, (counts.get(s.why) ?? 0) + 1);
  return [...counts].map(([why, n]) => `${n} ${why}`).join(', ');
}

const SKIPPED_BECAUSE: Partial<Record<ErrorCode, string>> = { KEY_NOT_ACTIVE: 'not active', KEY_NOT_FOUND: 'deleted' };

export function reportText(r: RevokeReport): string {
  const done = `Revoked ${plural(r.revoked.length, 'key')}`;
  if (r.skipped.length === 0) return done + '.';
  return `${done}; skipped ${r.skipped.length}: ${reasons(r.skipped.map((s) => ({ why: SKIPPED_BECAUSE[s.code] ?? s.code })))}.`;
}

function Checking({ count, width, height, onClose }: { count: number; width: number; height: number; onClose(): void }) {
  useKeypress({ layer: Layer.dialog, modal: true, commands: ['close'] }, (_k, command) => {
    if (command) onClose();
    return true;
  });
  return (
    <Dialog title="Revoke" width={width} height={height}>
      <Text>Checking {plural(count, 'key')}…</Text>
    </Dialog>
  );
}

export function RevokeDialog({ ids, width, height, onClose, onRevoked }: { ids: string[]; width: number; height: number; onClose(): void; onRevoked(): void }) {
  const { service, fail, notify, refresh } = useAppActions();
  const [plan, setPlan] = useState<RevokePlan | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    planRevoke(service, ids).then(
      (p) => live && setPlan(p),
      (e: unknown) => {
        if (!live) return;
        fail(e);
        onClose();
      },
    );
    return () => {
      live = false;
    };
    // Planned once, for the keys the dialog was opened with.
  }, []);

  if (!plan) return <Checking count={ids.length} width={width} height={height} onClose={onClose} />;

  const confirm = () => {
    if (busy) return;
    setBusy(true);
    service.revokeKeys(ids).then(
      (report) => {
        notify({ kind: report.revoked.length > 0 ? 'success' : 'info', text: reportText(report) });
        onRevoked();
        onClose();
        refresh();
      },
      (e: unknown) => {
        fail(e);
        onClose();
      },
    );
  };

  const n = plan.active.length;
  const listed = plan.active.slice(0, Math.max(1, height - 10));
  const title = ids.length === 1 ? 'Revoke this key?' : `Revoke ${plural(ids.length, 'key')}?`;
  return (
    <Confirm title={title} width={width} height={height} tone="danger" onConfirm={confirm} onCancel={onClose} canConfirm={n > 0 && !busy}>
      {n > 0 ? (
        <Text>
          {plural(n, 'active key')} will be revoked now. This cannot be undone: a revoked key never works again.
        </Text>
      ) : (
        <Text>None of them is active, so there is nothing to revoke: only an active key can be revoked.</Text>
      )}
      {listed.map((k) => (
        <Text key={k.id} wrap="truncate">
          {'  • ' + safeText(`${k.description}  ${k.id.slice(0, 8)}  ${k.sub}`)}
        </Text>
      ))}
      {n > listed.length ? <Text>{`  … and ${n - listed.length} more`}</Text> : null}
      {plan.skipped.length > 0 ? <Text>{safeText(`${plural(plan.skipped.length, 'key')} will be skipped: ${reasons(plan.skipped)}.`)}</Text> : null}
      {busy ? <Text>Revoking…</Text> : null}
    </Confirm>
  );
}
