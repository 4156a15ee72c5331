import { contactFieldsRead } from '../../../rules/expr-reads';

describe('the contact fields an expression reads', () => {
  it.each([
    ['contact.consent.email == "unsubscribed" || contact.emailStatus in ["bounced", "complained", "invalid"]', ['consent', 'emailStatus']],
    ['"stop" in contact.tags', ['tags']],
    ['has(contact.attributes.plan) && contact.attributes.plan == "pro"', ['attributes']],
    ['contact.engagement.orders > 0 && now > journey.startedAt', ['engagement']],
    ['trigger.data.amount > 100', []],
  ])('%s reads %j', (source, fields) => {
    expect(contactFieldsRead(source)).toEqual(fields);
  });

  it.each([
    ['isSubscribed(contact)'],
    ['contact["tags"].size() > 0'],
    ['contact == contact'],
    ['contact.consent.email == (', ],
  ])('%s may read anything (null)', (source) => {
    expect(contactFieldsRead(source)).toBeNull();
  });
});
