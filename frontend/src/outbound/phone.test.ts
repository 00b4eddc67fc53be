import { describe, expect, it } from 'vitest';
import { noTemplate } from '../templates/TemplatePicker';
import { normalisePhone, phoneProblem } from './phone';
import { startProblem } from './StartOutboundDialog';

describe('normalisePhone (E.164, as the server normalises it)', () => {
  it.each([
    ['+447700900123', '+447700900123'],
    ['+44 7700 900123', '+447700900123'],
    ['+44 (7700) 900-123', '+447700900123'],
    ['+44.7700.900123', '+447700900123'],
    ['00447700900123', '+447700900123'],
    ['  +1 415 555 0100 ', '+14155550100'],
    ['+4915112345678', '+4915112345678'],
  ])('%s is %s', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
  });

  it.each([
    '07700900123', // national form: no country code
    '+07700900123', // country codes do not start with 0
    '+44770', // too short
    '+4477009001234567', // 16 digits: too long
    '+44 7700 9OO123', // letters
    '',
  ])('%s is not a number in international form', (input) => {
    expect(normalisePhone(input)).toBeNull();
  });
});

describe('phoneProblem: why Start stays disabled', () => {
  it('asks for the number, then for its international form', () => {
    expect(phoneProblem('')).toBe("Enter the recipient's number.");
    expect(phoneProblem('07700 900123')).toBe(
      'Enter the number in international form, starting with + and the country code, e.g. +44 7700 900123.',
    );
    expect(phoneProblem('+44 77')).toBe('The number is too short: enter it with its country code, e.g. +44 7700 900123.');
    expect(phoneProblem('+44 7700 900123 4567')).toBe(
      'The number is too long: an international number has at most 15 digits.',
    );
    expect(phoneProblem('+44 7700 9OO123')).toBe('Enter the number in international form: + and digits only, e.g. +44 7700 900123.');
    expect(phoneProblem('+44 7700 900123')).toBeNull();
  });
});

describe('startProblem: the first thing missing, in the order the form is filled in', () => {
  const template = { id: 't-1', name: 'order_update', language: 'en', body: 'Hi {{1}}, order {{2}}', parameterCount: 2 };

  it('SMS: From, then the number, then the message', () => {
    const base = { channel: 'SMS' as const, identityId: 'id-1', to: '+447700900123', text: 'Hello', choice: noTemplate };
    expect(startProblem({ ...base, identityId: null })).toBe('Choose the SMS number to send from.');
    expect(startProblem({ ...base, to: '7700900123' })).toMatch(/^Enter the number in international form/);
    expect(startProblem({ ...base, text: '   ' })).toBe('Write the message.');
    expect(startProblem({ ...base, text: 'x'.repeat(4097) })).toBe('The message is too long: 4097 of 4096 characters.');
    expect(startProblem(base)).toBeNull();
  });

  it('WhatsApp: a template with every parameter filled in', () => {
    const base = { channel: 'WHATSAPP' as const, identityId: 'id-2', to: '+447700900123', text: '', choice: noTemplate };
    expect(startProblem({ ...base, identityId: null })).toBe('Choose the WhatsApp number to send from.');
    expect(startProblem(base)).toBe('Choose a template.');
    expect(startProblem({ ...base, choice: { template, parameters: ['Ana', ' '] } })).toBe(
      'Fill in parameter 2 of the template.',
    );
    expect(startProblem({ ...base, choice: { template, parameters: ['Ana', 'A-1'] } })).toBeNull();
  });
});
