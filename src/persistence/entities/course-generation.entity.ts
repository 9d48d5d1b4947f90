import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** The latest generation of a course (course.generation.completed's completed_at): what tells a regeneration from a re-send. */
export const CourseGenerationEntity = defineEntity({
  name: 'CourseGeneration',
  tableName: 'course_generation',
  properties: {
    courseId: p.string().columnType('text').primary(),
    completedAt: p.datetime().columnType('timestamptz'),
    receivedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
  },
});

export type CourseGenerationRow = InferEntity<typeof CourseGenerationEntity>;
