import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { AdminPlanFieldsFragment, PlanInput } from '../gql/graphql';
import { channelNames, CheckField, CheckGroup, Status, TextInput, useTouched } from './Fields';
import { navigate, routeHref } from './route';
import { failureMessage, fieldErrors, GENERAL, type AdminUserError } from './userErrors';
import { CHANNELS, planProblems, type AdminChannel, type CodeRow, type PlanForm } from './validation';

export const AdminPlanFields = graphql(`
  fragment AdminPlanFields on InteractionPlan {
    id
    name
    version
    channels
    dispositionCodes {
      code
      label
    }
    dispositionRequired
    wrapSeconds
    offerTimeoutSeconds
    autoAccept
    autoParkSeconds
    parkedTimeoutSeconds
    dispositionAssist
    summaryAssist
    postParkingPlan {
      id
      name
    }
  }
`);

const AdminPlansQuery = graphql(`
  query AdminPlans {
    interactionPlans {
      ...AdminPlanFields
    }
  }
`);

const CreatePlanMutation = graphql(`
  mutation CreatePlan($input: PlanInput!) {
    createPlan(input: $input) {
      plan {
        ...AdminPlanFields
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

const UpdatePlanMutation = graphql(`
  mutation UpdatePlan($input: PlanInput!) {
    updatePlan(input: $input) {
      plan {
        ...AdminPlanFields
      }
      userErrors {
        code
        message
        field
      }
    }
  }
`);

export type Plan = AdminPlanFieldsFragment;

/** Plans: the list (#/admin/plans), a new plan (…/new) or one plan (…/<id>). */
export function PlansSection({ rest }: { rest: string[] }) {
  const [{ data, fetching, error }] = useQuery({ query: AdminPlansQuery, requestPolicy: 'cache-and-network' });
  const plans = data?.interactionPlans ?? [];
  if (!data) {
    return (
      <section className="admin-section">
        <p className={error ? 'form-error' : 'muted'} role={error ? 'alert' : undefined}>
          {fetching || !error ? 'Loading…' : failureMessage(error, 'Loading the plans')}
        </p>
      </section>
    );
  }
  if (rest[0] === 'new') return <PlanEditor plan={null} plans={plans} />;
  if (rest[0]) {
    const plan = plans.find((p) => p.id === rest[0]);
    if (!plan)
      return (
        <section className="admin-section">
          <p className="muted">No such plan.</p>
          <a href={routeHref('admin', 'plans')}>Back to plans</a>
        </section>
      );
    return <PlanEditor key={plan.id} plan={plan} plans={plans} />;
  }
  return <PlanList plans={plans} />;
}

const seconds = (n: number | null | undefined) => (n == null ? 'Off' : `${n} s`);

function PlanList({ plans }: { plans: readonly Plan[] }) {
  return (
    <section className="admin-section" aria-labelledby="admin-plans-title">
      <header className="admin-section__header">
        <h2 id="admin-plans-title">Plans</h2>
        <a className="button button--primary" href={routeHref('admin', 'plans', 'new')}>
          New plan
        </a>
      </header>
      {plans.length === 0 ? (
        <p className="muted">No plans yet. A plan is a queue with its rules: create one for each channel you take, e.g. webchat.</p>
      ) : (
        <table className="admin-table">
          <caption className="visually-hidden">Plans</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Channels</th>
              <th scope="col">Codes</th>
              <th scope="col">Offer timeout</th>
              <th scope="col">Auto-park</th>
              <th scope="col">After parking</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {plans.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.channels.map((c) => channelNames[c]).join(', ') || '—'}</td>
                <td>
                  {p.dispositionCodes.length}
                  {p.dispositionRequired && ' (required)'}
                </td>
                <td>{p.offerTimeoutSeconds} s</td>
                <td>{seconds(p.autoParkSeconds)}</td>
                <td>{p.postParkingPlan?.name ?? 'Ends'}</td>
                <td>
                  <a className="button button--small" href={routeHref('admin', 'plans', p.id)} aria-label={`Edit ${p.name}`}>
                    Edit
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

let rowKeys = 0;
const newRow = (code = '', label = ''): CodeRow => ({ key: `code-${++rowKeys}`, code, label });

/** The form's values for a plan; a new plan starts from sensible defaults. */
export function planForm(plan: Plan | null): PlanForm {
  if (!plan)
    return {
      name: '',
      channels: [],
      codes: [newRow('RESOLVED', 'Resolved')],
      dispositionRequired: false,
      wrapSeconds: '60',
      offerTimeoutSeconds: '30',
      autoAccept: false,
      autoPark: false,
      autoParkSeconds: '300',
      parkedTimeoutSeconds: '86400',
      postParkingPlanId: '',
      dispositionAssist: false,
      summaryAssist: false,
    };
  return {
    name: plan.name,
    channels: plan.channels.filter((c): c is AdminChannel => (CHANNELS as readonly string[]).includes(c)),
    codes: plan.dispositionCodes.map((c) => newRow(c.code, c.label)),
    dispositionRequired: plan.dispositionRequired,
    wrapSeconds: String(plan.wrapSeconds ?? 0),
    offerTimeoutSeconds: String(plan.offerTimeoutSeconds),
    autoAccept: plan.autoAccept,
    autoPark: plan.autoParkSeconds != null && plan.autoParkSeconds > 0,
    autoParkSeconds: String(plan.autoParkSeconds ?? 300),
    parkedTimeoutSeconds: String(plan.parkedTimeoutSeconds),
    postParkingPlanId: plan.postParkingPlan?.id ?? '',
    dispositionAssist: plan.dispositionAssist,
    summaryAssist: plan.summaryAssist,
  };
}

/** The PlanInput for the form: every setting, so a re-applied change is the whole form. */
export function planInput(form: PlanForm, planId: string | null, version: number | null): PlanInput {
  return {
    ...(planId ? { planId, version } : {}),
    name: form.name.trim(),
    channels: form.channels,
    dispositionCodes: form.codes.map((c) => ({ code: c.code.trim(), label: c.label.trim() })),
    dispositionRequired: form.dispositionRequired,
    // Codes required: no wrap timer (the agent completes when done).
    wrapSeconds: form.dispositionRequired ? 0 : Number(form.wrapSeconds),
    offerTimeoutSeconds: Number(form.offerTimeoutSeconds),
    autoAccept: form.autoAccept,
    autoParkSeconds: form.autoPark ? Number(form.autoParkSeconds) : 0,
    parkedTimeoutSeconds: Number(form.parkedTimeoutSeconds),
    postParkingPlanId: form.postParkingPlanId,
    dispositionAssist: form.dispositionAssist,
    summaryAssist: form.summaryAssist,
  };
}

const PLAN_FIELDS = [
  'name',
  'channels',
  'dispositionCodes',
  'dispositionRequired',
  'wrapSeconds',
  'offerTimeoutSeconds',
  'autoParkSeconds',
  'parkedTimeoutSeconds',
  'postParkingPlanId',
];

/** Maps a plan mutation's userErrors to the form's fields (codes by row: dispositionCodes.<i>.code). */
export function planErrors(errors: readonly AdminUserError[], codeRows: number) {
  return fieldErrors(errors, (key) => {
    if (PLAN_FIELDS.includes(key)) return true;
    const m = /^dispositionCodes\.(\d+)\.(code|label)$/.exec(key);
    return m !== null && Number(m[1]) < codeRows;
  });
}

const sameValue = (a: unknown, b: unknown) => {
  const strip = (v: unknown) => (Array.isArray(v) ? v.map((x: unknown) => (x && typeof x === 'object' && 'key' in x ? { ...x, key: '' } : x)) : v);
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
};

/**
 * The supervisor's changes re-applied over someone else's: every setting they changed from what
 * they loaded (`base`) takes their value, every other one the current value.
 */
export function reapply(base: PlanForm, mine: PlanForm, current: PlanForm): PlanForm {
  const out = { ...current };
  for (const key of Object.keys(mine) as (keyof PlanForm)[]) {
    if (!sameValue(mine[key], base[key])) (out as Record<string, unknown>)[key] = mine[key];
  }
  return out;
}

/** What the current plan says, for the conflict notice: setting name and value. */
export function planSummary(plan: Plan): [string, string][] {
  return [
    ['Name', plan.name],
    ['Channels', plan.channels.map((c) => channelNames[c]).join(', ') || 'None'],
    ['Disposition codes', plan.dispositionCodes.map((c) => `${c.code} (${c.label})`).join(', ') || 'None'],
    ['Codes required', plan.dispositionRequired ? 'Yes' : 'No'],
    ['Wrap timer', plan.dispositionRequired ? 'None (codes required)' : seconds(plan.wrapSeconds || null)],
    ['Offer timeout', `${plan.offerTimeoutSeconds} s`],
    ['Auto-accept', plan.autoAccept ? 'Yes' : 'No'],
    ['Auto-park', seconds(plan.autoParkSeconds || null)],
    ['Parked timeout', `${plan.parkedTimeoutSeconds} s`],
    ['After parking', plan.postParkingPlan?.name ?? 'The reply ends it'],
    ['Agent Assist suggestions', plan.dispositionAssist ? 'On' : 'Off'],
    ['Insert Summary', plan.summaryAssist ? 'On' : 'Off'],
  ];
}

/**
 * Create or change a plan: every setting of PlanInput. Saving sends the version the form was
 * loaded from; when someone else saved in between, the server answers CONFLICT with the current
 * plan, which shows next to the form: the supervisor re-applies their values over it, or takes
 * the current ones.
 */
export function PlanEditor({ plan, plans }: { plan: Plan | null; plans: readonly Plan[] }) {
  const creating = plan === null;
  const [form, setForm] = useState<PlanForm>(() => planForm(plan));
  // What the form was loaded from: a re-applied change keeps only what differs from it.
  const [base, setBase] = useState<PlanForm>(() => planForm(plan));
  const [version, setVersion] = useState<number | null>(plan?.version ?? null);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [conflict, setConflict] = useState<Plan | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const touched = useTouched();
  const conflictRef = useRef<HTMLDivElement>(null);
  const [{ fetching: creatingNow }, create] = useMutation(CreatePlanMutation);
  const [{ fetching: updatingNow }, update] = useMutation(UpdatePlanMutation);
  const busy = creatingNow || updatingNow;
  const problems = planProblems(form);
  const errorOf = (key: string) => serverErrors[key] ?? (touched.shows(key) ? problems[key] : undefined);

  function change(next: Partial<PlanForm>, field: string) {
    setForm((f) => ({ ...f, ...next }));
    touched.touch(field);
    setSaved(null);
    setServerErrors((e) => {
      if (!e[field] && !e[GENERAL]) return e;
      const copy = { ...e };
      delete copy[field];
      delete copy[GENERAL];
      return copy;
    });
  }

  function setCode(index: number, part: 'code' | 'label', value: string) {
    change({ codes: form.codes.map((row, i) => (i === index ? { ...row, [part]: value } : row)) }, `dispositionCodes.${index}.${part}`);
  }

  async function save(values: PlanForm, baseVersion: number | null) {
    touched.submit();
    if (busy || Object.keys(planProblems(values)).length > 0) return;
    const input = planInput(values, plan?.id ?? null, baseVersion);
    const result = creating ? await create({ input }) : await update({ input });
    const payload = result.data && ('createPlan' in result.data ? result.data.createPlan : result.data.updatePlan);
    const errors = payload?.userErrors ?? [];
    if (errors.some((e) => e.code === 'CONFLICT') && payload?.plan) {
      setServerErrors({});
      setConflict(payload.plan);
      // The notice takes the focus, so it is read out first.
      setTimeout(() => conflictRef.current?.focus());
      return;
    }
    if (errors.length) return setServerErrors(planErrors(errors, form.codes.length));
    if (!payload?.plan) return setServerErrors({ [GENERAL]: failureMessage(result.error, 'Saving the plan') });
    setConflict(null);
    setServerErrors({});
    if (creating) {
      navigate('admin', 'plans');
      return;
    }
    setVersion(payload.plan.version);
    setBase(planForm(payload.plan));
    setSaved('Saved. New offers, timers and routing use the new settings; timers already running keep their deadline.');
  }

  function takeCurrent(current: Plan) {
    setForm(planForm(current));
    setBase(planForm(current));
    setVersion(current.version);
    setConflict(null);
    touched.reset();
    setSaved(null);
  }

  const others = plans.filter((p) => p.id !== plan?.id);

  return (
    <section className="admin-section" aria-labelledby="admin-plan-title">
      <header className="admin-section__header">
        <h2 id="admin-plan-title">{creating ? 'New plan' : `Plan ${plan.name}`}</h2>
        <a href={routeHref('admin', 'plans')}>Back to plans</a>
      </header>
      {conflict && (
        <div ref={conflictRef} tabIndex={-1} className="card admin-conflict" role="alert" aria-labelledby="admin-conflict-title">
          <h3 id="admin-conflict-title">Changed by someone else</h3>
          <p>
            Someone else saved this plan while you were editing it, so your changes were not saved. Here are the current
            values. Re-apply my changes puts the settings you changed over them; the others keep these values.
          </p>
          <dl className="facts">
            {planSummary(conflict).map(([term, value]) => (
              <div key={term} className="facts__row">
                <dt>{term}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
          <div className="admin-conflict__actions">
            <button
              type="button"
              className="button button--primary"
              onClick={() => {
                const current = planForm(conflict);
                const merged = reapply(base, form, current);
                setForm(merged);
                setBase(current);
                setVersion(conflict.version);
                void save(merged, conflict.version);
              }}
            >
              Re-apply my changes
            </button>
            <button type="button" className="button" onClick={() => takeCurrent(conflict)}>
              Use the current values
            </button>
          </div>
        </div>
      )}
      <form
        className="admin-form"
        noValidate
        aria-labelledby="admin-plan-title"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void save(form, version);
        }}
      >
        <TextInput
          label="Name"
          value={form.name}
          onChange={(v) => change({ name: v }, 'name')}
          onBlur={() => touched.touch('name')}
          error={errorOf('name')}
          isRequired
        />
        <CheckGroup
          label="Channels"
          value={form.channels}
          onChange={(v) => change({ channels: v as AdminChannel[] }, 'channels')}
          error={errorOf('channels')}
          description="What this plan’s queue takes. Webchats go to the first plan taking webchat unless the widget names one."
        >
          {CHANNELS.map((c) => (
            <CheckField key={c} value={c}>
              {channelNames[c]}
            </CheckField>
          ))}
        </CheckGroup>
        <fieldset className="admin-fieldset">
          <legend>Disposition codes</legend>
          {form.codes.length === 0 && <p className="muted">No codes.</p>}
          <ol className="admin-codes">
            {form.codes.map((row, i) => (
              <li key={row.key} className="admin-codes__row">
                <TextInput
                  label={`Code ${i + 1}`}
                  value={row.code}
                  onChange={(v) => setCode(i, 'code', v)}
                  error={errorOf(`dispositionCodes.${i}.code`)}
                  description={i === 0 ? 'Letters, digits and _' : undefined}
                  isRequired
                />
                <TextInput
                  label={`Label ${i + 1}`}
                  value={row.label}
                  onChange={(v) => setCode(i, 'label', v)}
                  error={errorOf(`dispositionCodes.${i}.label`)}
                  description={i === 0 ? 'What agents see' : undefined}
                  isRequired
                />
                <button
                  type="button"
                  className="button button--small"
                  aria-label={`Remove code ${i + 1}${row.code ? ` (${row.code})` : ''}`}
                  onClick={() => change({ codes: form.codes.filter((_, j) => j !== i) }, 'dispositionCodes')}
                >
                  Remove
                </button>
              </li>
            ))}
          </ol>
          <button type="button" className="button button--small" onClick={() => change({ codes: [...form.codes, newRow()] }, 'dispositionCodes')}>
            Add code
          </button>
          {errorOf('dispositionCodes') && <p className="field-error">{errorOf('dispositionCodes')}</p>}
          <CheckField
            isSelected={form.dispositionRequired}
            onChange={(v) => change({ dispositionRequired: v }, 'dispositionRequired')}
            description="Agents must choose a code before they can complete; there is then no wrap timer."
          >
            Codes required
          </CheckField>
          {serverErrors.dispositionRequired && <p className="field-error">{serverErrors.dispositionRequired}</p>}
        </fieldset>
        <fieldset className="admin-fieldset">
          <legend>Timers</legend>
          <div className="admin-grid">
            {!form.dispositionRequired && (
              <TextInput
                label="Wrap seconds"
                inputMode="numeric"
                value={form.wrapSeconds}
                onChange={(v) => change({ wrapSeconds: v }, 'wrapSeconds')}
                error={errorOf('wrapSeconds')}
                description="Wrap-up time before the system completes: 0 (none) to 3600."
              />
            )}
            <TextInput
              label="Offer timeout seconds"
              inputMode="numeric"
              value={form.offerTimeoutSeconds}
              onChange={(v) => change({ offerTimeoutSeconds: v }, 'offerTimeoutSeconds')}
              error={errorOf('offerTimeoutSeconds')}
              description="How long an offer waits for an answer: 5 to 600."
              isRequired
            />
            <TextInput
              label="Parked timeout seconds"
              inputMode="numeric"
              value={form.parkedTimeoutSeconds}
              onChange={(v) => change({ parkedTimeoutSeconds: v }, 'parkedTimeoutSeconds')}
              error={errorOf('parkedTimeoutSeconds')}
              description="How long a parked interaction waits for the contact: 60 to 604800 (7 days)."
              isRequired
            />
          </div>
          <CheckField isSelected={form.autoPark} onChange={(v) => change({ autoPark: v }, 'autoParkSeconds')}>
            Auto-park when the contact is silent
          </CheckField>
          {form.autoPark && (
            <TextInput
              label="Auto-park seconds"
              inputMode="numeric"
              value={form.autoParkSeconds}
              onChange={(v) => change({ autoParkSeconds: v }, 'autoParkSeconds')}
              error={errorOf('autoParkSeconds')}
              description="Seconds of contact silence before the system parks an active interaction: 30 to 86400."
            />
          )}
          <div className="field">
            <label htmlFor="admin-plan-post-parking">After parking</label>
            <select
              id="admin-plan-post-parking"
              value={form.postParkingPlanId}
              aria-describedby="admin-plan-post-parking-note"
              aria-invalid={errorOf('postParkingPlanId') ? true : undefined}
              onChange={(e) => change({ postParkingPlanId: e.target.value }, 'postParkingPlanId')}
            >
              <option value="">None: the reply ends it</option>
              {plan && <option value={plan.id}>This plan ({plan.name})</option>}
              {others.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
            <p id="admin-plan-post-parking-note" className="field__note muted">
              Where a contact’s reply sends a parked interaction its agent cannot take back.
            </p>
            {errorOf('postParkingPlanId') && <p className="field-error">{errorOf('postParkingPlanId')}</p>}
          </div>
        </fieldset>
        <CheckField
          isSelected={form.autoAccept}
          onChange={(v) => change({ autoAccept: v }, 'autoAccept')}
          description="Every offer of this plan is accepted at once, for every agent."
        >
          Auto-accept
        </CheckField>
        <CheckField
          isSelected={form.dispositionAssist}
          onChange={(v) => change({ dispositionAssist: v }, 'dispositionAssist')}
          description="Agent Assist learns the codes from this plan’s completed interactions (personal data removed) and suggests them to agents."
        >
          Suggest disposition codes
        </CheckField>
        <CheckField
          isSelected={form.summaryAssist}
          onChange={(v) => change({ summaryAssist: v }, 'summaryAssist')}
          description="Agents can insert a recap of the conversation into their notes."
        >
          Insert Summary
        </CheckField>
        {serverErrors[GENERAL] && (
          <p className="form-error" role="alert">
            {serverErrors[GENERAL]}
          </p>
        )}
        <footer className="admin-form__footer">
          <button type="submit" className="button button--primary" aria-disabled={busy}>
            {busy ? 'Saving…' : creating ? 'Create plan' : 'Save changes'}
          </button>
          {saved && <Status>{saved}</Status>}
        </footer>
      </form>
    </section>
  );
}
