import mongoose from 'mongoose';
import { useTestDatabase } from '../../helpers/db';

const Thing = mongoose.model(
  'HarnessThing',
  new mongoose.Schema({ key: { type: String, required: true, unique: true }, count: Number }, { strict: 'throw' }),
);

describe('the test database', () => {
  useTestDatabase('harness');

  it('stores a document through mongoose and reads the same values back', async () => {
    await Thing.init();
    const created = await Thing.create({ key: 'a', count: 2 });
    const found = await Thing.findById(created._id).lean();
    expect(found).toMatchObject({ key: 'a', count: 2 });
  });

  it('rejects a duplicate on a unique index with error code 11000', async () => {
    await Thing.init();
    await Thing.create({ key: 'dup', count: 1 });
    await expect(Thing.create({ key: 'dup', count: 2 })).rejects.toMatchObject({ code: 11000 });
    expect(await Thing.countDocuments({ key: 'dup' })).toBe(1);
  });
});
