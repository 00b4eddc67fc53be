import { describe, expect, it } from 'vitest';
import { cleanParameter, fillTemplate, parametersFor, previewParts, templateProblem } from './template';

const body = 'Hi {{1}}, your order {{2}} ships on {{ 3 }}. Thanks, {{1}}!';

describe('template preview', () => {
  it('replaces each {{n}} with its parameter, the same one wherever it repeats', () => {
    expect(fillTemplate(body, ['Ana', 'A-1009', 'Monday'])).toBe(
      'Hi Ana, your order A-1009 ships on Monday. Thanks, Ana!',
    );
  });

  it('keeps a placeholder whose parameter is empty or blank visible as {{n}}', () => {
    expect(fillTemplate(body, ['Ana', '  '])).toBe('Hi Ana, your order {{2}} ships on {{3}}. Thanks, Ana!');
  });

  it('cuts the body into text and placeholders for the preview to mark', () => {
    expect(previewParts('Order {{1}} is {{2}}', [' A-1 ', ''])).toEqual([
      { kind: 'text', text: 'Order ' },
      { kind: 'parameter', index: 1, value: 'A-1' },
      { kind: 'text', text: ' is ' },
      { kind: 'parameter', index: 2, value: null },
    ]);
    expect(previewParts('No parameters.', [])).toEqual([{ kind: 'text', text: 'No parameters.' }]);
  });

  it('sends parameters on one line and trimmed, exactly parameterCount of them', () => {
    expect(cleanParameter('  two\nlines\t ')).toBe('two lines');
    expect(parametersFor({ id: 't', name: 'n', body, parameterCount: 3 }, [' Ana ', 'A-1'])).toEqual(['Ana', 'A-1', '']);
  });

  it('says what is missing before a template can be sent', () => {
    const template = { id: 't', name: 'order_update', body, parameterCount: 3 };
    expect(templateProblem(null, [])).toBe('Choose a template.');
    expect(templateProblem(template, ['Ana'])).toBe('Fill in parameter 2 of the template.');
    expect(templateProblem(template, ['Ana', 'A-1', 'Monday'])).toBeNull();
    expect(templateProblem({ ...template, body: 'Hello!', parameterCount: 0 }, [])).toBeNull();
  });
});
