import { Fragment, useId } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { MessageTemplatesQuery as MessageTemplatesData } from '../gql/graphql';
import { previewParts, type TemplateLike } from './template';

export const MessageTemplatesQuery = graphql(`
  query MessageTemplates($identityId: ID!) {
    messageTemplates(identityId: $identityId) {
      id
      name
      language
      body
      parameterCount
    }
  }
`);

export type Template = MessageTemplatesData['messageTemplates'][number];

/** What the agent chose: a template (null until they choose) and its parameters, {{1}} first. */
export interface TemplateChoice {
  template: Template | null;
  parameters: string[];
}

export const noTemplate: TemplateChoice = { template: null, parameters: [] };

/**
 * Choosing an approved WhatsApp template (O2, S8): the identity's templates, one input per
 * parameter, and a live preview of the body with each {{n}} replaced by what was typed (an
 * empty one stays visible as {{n}}). Controlled: the caller keeps the choice. Used by the
 * outbound start dialog and by the reply box outside the 24-hour window.
 */
export function TemplatePicker({
  identityId,
  value,
  onChange,
  error,
  disabled = false,
  autoFocus = false,
}: {
  identityId: string;
  value: TemplateChoice;
  onChange: (choice: TemplateChoice) => void;
  /** The server's complaint about the template or its parameters, shown under them. */
  error?: string | null;
  disabled?: boolean;
  autoFocus?: boolean;
}) {
  const selectId = useId();
  const errorId = useId();
  const previewId = useId();
  const [{ data, fetching, error: loadError }, reexecute] = useQuery({
    query: MessageTemplatesQuery,
    variables: { identityId },
  });
  const templates = data?.messageTemplates ?? [];
  const template = value.template;

  function choose(id: string) {
    const next = templates.find((t) => t.id === id) ?? null;
    onChange({ template: next, parameters: next ? Array.from({ length: next.parameterCount }, (_, i) => value.parameters[i] ?? '') : [] });
  }

  function setParameter(index: number, text: string) {
    const parameters = [...value.parameters];
    parameters[index] = text;
    onChange({ template, parameters });
  }

  if (loadError && !data)
    return (
      <div className="template-picker">
        <p className="form-error" role="alert">
          The templates could not be loaded.{' '}
          <button type="button" className="button button--small" onClick={() => reexecute({ requestPolicy: 'network-only' })}>
            Try again
          </button>
        </p>
      </div>
    );

  return (
    <div className="template-picker">
      <div className="field">
        <label htmlFor={selectId}>Template</label>
        <select
          id={selectId}
          value={template?.id ?? ''}
          disabled={disabled || fetching || templates.length === 0}
          autoFocus={autoFocus}
          aria-describedby={error ? errorId : undefined}
          aria-invalid={error ? true : undefined}
          onChange={(event) => choose(event.target.value)}
        >
          <option value="">
            {fetching && !data ? 'Loading templates…' : templates.length === 0 ? 'No approved templates' : 'Choose a template'}
          </option>
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({t.language})
            </option>
          ))}
        </select>
        {data && templates.length === 0 && (
          <p className="muted field__note">This number has no approved templates: a supervisor adds them once Meta has approved them.</p>
        )}
      </div>
      {template && template.parameterCount > 0 && (
        <fieldset className="template-picker__parameters" disabled={disabled}>
          <legend>Parameters</legend>
          {Array.from({ length: template.parameterCount }, (_, i) => (
            <ParameterInput key={i} index={i} value={value.parameters[i] ?? ''} onChange={setParameter} />
          ))}
        </fieldset>
      )}
      {template && (
        <div className="template-preview">
          <span id={previewId} className="template-preview__title">
            Preview
          </span>
          <p className="template-preview__body" aria-labelledby={previewId} data-testid="template-preview">
            <TemplatePreview template={template} parameters={value.parameters} />
          </p>
        </div>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function ParameterInput({
  index,
  value,
  onChange,
}: {
  index: number;
  value: string;
  onChange: (index: number, value: string) => void;
}) {
  const id = useId();
  return (
    <div className="template-picker__parameter">
      <label htmlFor={id}>
        Parameter {index + 1}{' '}
        <span className="muted" aria-hidden="true">{`{{${index + 1}}}`}</span>
      </label>
      <input id={id} type="text" autoComplete="off" value={value} onChange={(event) => onChange(index, event.target.value)} />
    </div>
  );
}

/** The body with the parameters filled in; placeholders still empty are marked. */
export function TemplatePreview({ template, parameters }: { template: TemplateLike; parameters: readonly string[] }) {
  return (
    <>
      {previewParts(template.body, parameters).map((part, i) =>
        part.kind === 'text' ? (
          <Fragment key={i}>{part.text}</Fragment>
        ) : part.value !== null ? (
          <mark key={i} className="template-preview__value">
            {part.value}
          </mark>
        ) : (
          <span key={i} className="template-preview__slot" title={`Parameter ${part.index} is empty`}>
            {`{{${part.index}}}`}
          </span>
        ),
      )}
    </>
  );
}
