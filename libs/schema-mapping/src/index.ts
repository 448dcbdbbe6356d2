export * from './ecs-reference';
export * from './ecs';
export * from './ocsf-reference';
export * from './ocsf';
export * from './format';
